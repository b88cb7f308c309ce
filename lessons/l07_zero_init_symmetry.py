"""Lesson: why weights are not initialised to zero (or to any single constant).

Run it on its own: `python lessons/l07_zero_init_symmetry.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "zero-init-symmetry",
    "day": 4,
    "title_ko": "가중치를 0으로 초기화하지 않는 이유: 대칭성",
    "title_en": "Why weights are not initialised to zero: symmetry",
    "question_ko": "가중치를 모두 0(또는 모두 같은 값)으로 초기화하면 학습에서 무슨 일이 생길까?",
    "question_en": "What happens during training when every weight starts at zero, "
    "or at one shared value?",
    "explanation_ko": "한 층의 은닉 유닛들이 같은 가중치로 시작하면 같은 입력에 대해 같은 값을 "
    "내고, 역전파에서도 똑같은 기울기를 받는다. 그래서 업데이트 후에도 계속 똑같고, 아무리 "
    "학습해도 유닛 여러 개가 유닛 하나처럼 동작한다. 0이 아닌 상수로 시작해도 마찬가지다. "
    "tanh처럼 0에서 0을 내는 활성화와 0 초기화를 함께 쓰면 은닉층의 기울기가 정확히 0이라 "
    "아예 움직이지 않는다. 작은 무작위 값으로 초기화하면 이 대칭이 깨져 유닛마다 다른 특징을 "
    "배운다. 편향은 가중치가 무작위이면 0으로 시작해도 괜찮다.",
    "explanation_en": "If the hidden units of a layer start with identical weights, they compute "
    "identical values for every input and receive identical gradients in backpropagation, so "
    "after each update they are still identical: however long you train, several units behave "
    "like one. A non-zero constant is no better. With an activation that maps 0 to 0, such as "
    "tanh, zero initialisation is worse still: the hidden layer's gradient is exactly zero and "
    "it never moves. Small random weights break the symmetry so that each unit can learn a "
    "different feature. Biases may start at zero once the weights are random.",
    "tags": ["initialization", "symmetry", "training"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "tanh-zeros",
        "question_ko": "tanh 은닉층의 가중치를 모두 0으로 두고 학습하면?",
        "question_en": "A tanh hidden layer with all weights at zero: what happens in training?",
        "choices_ko": [
            "천천히 대칭이 깨진다",
            "가중치가 전혀 움직이지 않는다",
            "출력층만 0으로 남는다",
        ],
        "choices_en": [
            "The symmetry breaks slowly",
            "The weights never move",
            "Only the output layer stays at zero",
        ],
        "correct": 2,
        "answer_ko": "tanh(0) = 0이라 은닉층의 기울기가 정확히 0이 되어 가중치가 움직이지 않는다.",
        "answer_en": (
            "tanh(0) = 0, so the hidden layer's gradient is exactly zero and the "
            "weights never move."
        ),
        "proof": "assert hidden_moved == 0.0 and out_moved == 0.0",
    },
    {
        "key": "symmetry",
        "question_ko": "은닉 유닛들이 같은 가중치로 시작하면 왜 학습이 안 될까?",
        "question_en": "Why do hidden units that start with identical weights fail to learn?",
        "answer_ko": (
            "같은 값을 계산하고 같은 기울기를 받아 갱신 뒤에도 같으므로 여러 유닛이 "
            "하나처럼 동작한다."
        ),
        "answer_en": (
            "They compute the same values and get the same gradients, so they stay "
            "identical and act as one unit."
        ),
    },
]

import torch
from torch import nn

WIDTH = 16
STEPS = 200
# float64: identical units stay identical only while every unit's arithmetic rounds the same
# way. The symmetric state is unstable: should the units' sums round differently (a GPU may
# add in another order), Adam can grow a float32 last-digit difference to 0.1 and more within
# 200 steps, while a float64 one stays below 1e-8.
DTYPE = torch.float64


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


def make_mlp(activation: type[nn.Module], start: str, device: torch.device) -> nn.Sequential:
    model = nn.Sequential(nn.Linear(2, WIDTH), activation(), nn.Linear(WIDTH, 1))
    model = model.to(device=device, dtype=DTYPE)  # built (and drawn) on the CPU, then moved
    with torch.no_grad():
        for layer in (model[0], model[2]):
            if start == "zeros":
                layer.weight.zero_()
                layer.bias.zero_()
            elif start == "constant":
                layer.weight.fill_(0.5)
                layer.bias.zero_()
            # "random": keep PyTorch's default (uniform, scaled by fan-in)
    return model


def train(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    return nn.functional.mse_loss(model(x), y).item()


def unit_spread(model: nn.Sequential) -> float:
    """How far the hidden units' incoming weights and biases are from hidden unit 0."""
    incoming = torch.cat([model[0].weight, model[0].bias.unsqueeze(1)], dim=1)
    return (incoming - incoming[0]).abs().max().item()


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)
    # Hundreds of steps on tiny tensors: one CPU thread is faster than several that
    # keep waiting for each other.
    torch.set_num_threads(1)

    # A small 2-D regression problem that needs several different hidden features.
    x = (torch.rand(128, 2, dtype=DTYPE) * 4 - 2).to(device)  # drawn on the CPU, then moved
    y = (torch.sin(2 * x[:, :1]) + x[:, 1:] ** 2 - 1) / 2

    results = {}
    for start in ("zeros", "constant", "random"):
        model = make_mlp(nn.Sigmoid, start, device)
        loss = train(model, x, y)
        results[start] = (model, loss)
        print(f"sigmoid, {start:8s} init: final loss {loss:.4f}, ", end="")
        print(f"max difference between hidden units {unit_spread(model):.2e}")

    for start in ("zeros", "constant"):
        model, _ = results[start]
        assert unit_spread(model) < 1e-6, f"{start} init: hidden units should stay identical"
        # All units equal -> the layer is one unit counted WIDTH times.
        with torch.no_grad():
            one_unit = torch.sigmoid(x @ model[0].weight[0] + model[0].bias[0]).unsqueeze(1)
            as_one = WIDTH * model[2].weight[0, 0] * one_unit + model[2].bias
            assert torch.allclose(model(x), as_one, atol=1e-5), "it should act like one unit"
    random_model, random_loss = results["random"]
    assert unit_spread(random_model) > 0.1, "random init: hidden units should differ"
    worst_symmetric = min(results["zeros"][1], results["constant"][1])
    assert random_loss < 0.5 * worst_symmetric, "random init should fit clearly better"
    print(f"random init ends at {random_loss / worst_symmetric:.0%} of the symmetric loss")

    # With tanh (tanh(0) = 0) a zero start gives the hidden layer no gradient at all.
    frozen = make_mlp(nn.Tanh, "zeros", device)
    loss = train(frozen, x, y)
    hidden_moved = frozen[0].weight.abs().max().item()
    out_moved = frozen[2].weight.abs().max().item()
    print(f"tanh, zeros init: loss {loss:.4f}, largest hidden weight {hidden_moved}, ", end="")
    print(f"largest output weight {out_moved} (only the output bias learned)")
    assert hidden_moved == 0.0 and out_moved == 0.0, "tanh + zeros: the weights never move"


if __name__ == "__main__":
    main()
