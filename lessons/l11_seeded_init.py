"""Lesson: random initialisation made repeatable with seeds and generators.

Run it on its own: `python lessons/l11_seeded_init.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "seeded-init",
    "day": 4,
    "title_ko": "시드로 초기화와 학습을 재현하기",
    "title_en": "Reproducible initialisation and training with seeds",
    "question_ko": "가중치를 무작위로 초기화하면 실행할 때마다 결과가 달라지는데, 같은 결과를 "
    "다시 얻으려면 어떻게 해야 할까?",
    "question_en": "Random initialisation changes the result on every run; how do we get the "
    "same result again?",
    "explanation_ko": "PyTorch의 난수는 의사 난수라서 torch.manual_seed(s)로 시작 상태를 정하면 "
    "그 뒤에 만드는 가중치와 드롭아웃 마스크 등이 매번 똑같이 나온다. 같은 시드, 같은 코드, "
    "같은 장치라면 학습 전체가 같은 손실 곡선을 그린다. 하지만 중간에 다른 코드가 전역 난수를 "
    "하나라도 더 쓰면 그 뒤의 값이 모두 밀리므로, 특정 부분의 난수는 torch.Generator를 따로 "
    "만들어 넘기면 다른 코드의 영향을 받지 않는다. 시드가 다르면 시작점이 달라 최종 손실도 "
    "달라지니, 실험을 비교할 때는 시드를 기록하고 여러 시드로 돌려 보는 것이 좋다. GPU의 일부 "
    "연산은 비결정적이어서 torch.use_deterministic_algorithms(True)가 추가로 필요할 수 있다.",
    "explanation_en": "PyTorch's random numbers are pseudo-random: torch.manual_seed(s) fixes "
    "the starting state, so the weights, dropout masks and so on drawn afterwards come out the "
    "same every time. With the same seed, code and device, a whole training run traces the same "
    "loss curve. But if other code draws even one extra number from the global generator, "
    "everything after it shifts; give a part of the program its own torch.Generator and it is "
    "shielded from that. A different seed is a different starting point and ends at a "
    "different loss, so record seeds and compare experiments over several of them. Some GPU "
    "operations are nondeterministic and also need torch.use_deterministic_algorithms(True).",
    "tags": ["initialization", "seed", "reproducibility", "generator"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "generator",
        "question_ko": "전역 생성기에서 수를 하나 더 뽑으면, 자기 torch.Generator로 만든 가중치는?",
        "question_en": (
            "If other code draws one extra number from the global generator, what "
            "happens to weights drawn with their own torch.Generator?"
        ),
        "choices_ko": [
            "달라진다",
            "그대로다",
            "오류가 난다",
        ],
        "choices_en": [
            "They change",
            "They stay the same",
            "An error is raised",
        ],
        "correct": 2,
        "answer_ko": "자기 생성기는 전역 생성기와 따로 움직이므로 영향을 받지 않는다.",
        "answer_en": (
            "A private generator has its own state, so the extra global draw does not affect it."
        ),
        "proof": "assert torch.equal(*shielded)",
    },
    {
        "key": "same-seed",
        "question_ko": "같은 시드, 같은 코드, 같은 장치로 두 번 학습하면 손실 곡선은?",
        "question_en": (
            "Two training runs with the same seed, code and device: what about their loss curves?"
        ),
        "answer_ko": "같은 곡선을 그린다. 다른 시드는 다른 곳에서 끝나므로 여러 시드로 비교한다.",
        "answer_en": (
            "They trace the same curve; a different seed ends elsewhere, so compare "
            "over several seeds."
        ),
    },
]

import torch
from torch import nn


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


def build(seed: int, device: torch.device) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)).to(device)


def losses(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, steps: int = 40) -> list:
    """Plain gradient descent, written out; returns the loss at every step."""
    history = []
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        history.append(loss.item())
    return history


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return all(torch.equal(p, q) for p, q in pairs)


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)
    x = torch.randn(64, 3).to(device)  # drawn on the CPU: the same data on every device
    y = x.prod(dim=1, keepdim=True) + x[:, :1]

    # 1. Same seed -> the same starting weights; another seed -> other weights.
    assert same_weights(build(7, device), build(7, device)), "seed 7 twice: same weights"
    assert not same_weights(build(7, device), build(8, device)), "seeds 7 and 8 should differ"
    print("build(seed=7) twice -> identical weights; seed 8 -> different weights")

    # 2. Same seed -> the whole training run repeats.
    first = losses(build(7, device), x, y)
    second = losses(build(7, device), x, y)
    print(f"seed 7, two runs: loss {first[0]:.4f} -> {first[-1]:.4f} and ", end="")
    print(f"{second[0]:.4f} -> {second[-1]:.4f}")
    gap = max(abs(a - b) for a, b in zip(first, second, strict=True))
    allowed = 0.0 if device.type == "cpu" else 1e-6  # a GPU may reorder a sum
    assert gap <= allowed, f"the same seed should repeat the loss curve (gap {gap:.1e})"

    # 3. Other seeds start elsewhere and end elsewhere.
    finals = {seed: losses(build(seed, device), x, y)[-1] for seed in range(5)}
    print("final loss by seed:", {s: round(v, 4) for s, v in finals.items()})
    spread = max(finals.values()) - min(finals.values())
    assert spread > 1e-3, "different seeds should end at different losses"

    # 4. One extra draw from the global generator shifts everything after it;
    #    a private torch.Generator is not affected.
    def init_weights(extra_draw: bool, generator: torch.Generator | None) -> torch.Tensor:
        torch.manual_seed(123)
        if generator is not None:
            generator.manual_seed(123)
        if extra_draw:
            torch.rand(1)  # some other code using the global generator
        weight = torch.empty(4, 4)
        return nn.init.normal_(weight, std=0.1, generator=generator)

    plain = (init_weights(False, None), init_weights(True, None))
    private = torch.Generator()
    shielded = (init_weights(False, private), init_weights(True, private))
    assert not torch.equal(*plain), "an extra global draw should change the weights"
    assert torch.equal(*shielded), "a private generator should ignore the extra draw"
    print("one extra torch.rand(1) elsewhere: global-RNG weights changed, ", end="")
    print("private-generator weights did not")


if __name__ == "__main__":
    main()
