"""Lesson: the exact Xavier and He formulas, measured against `torch.nn.init`.

Run it on its own: `python lessons/l10_init_formulas.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "init-formulas",
    "day": 4,
    "title_ko": "Xavier와 He 초기화 공식 (정규분포와 균등분포)",
    "title_en": "The Xavier and He formulas, normal and uniform",
    "question_ko": "Xavier와 He 초기화는 정확히 어떤 표준편차(정규분포)와 범위(균등분포)를 "
    "쓰고, nn.init이 실제로 그 값을 쓰는지 어떻게 확인할까?",
    "question_en": "Exactly which standard deviation (normal) and bound (uniform) do Xavier and "
    "He initialisation use, and how can we check that nn.init really uses them?",
    "explanation_ko": "n = fan_in(입력 수), m = fan_out(출력 수)이라 하자. Xavier 정규분포의 "
    "표준편차는 sqrt(2 / (n + m))이고, Xavier 균등분포는 U(-a, a), a = sqrt(6 / (n + m))이다. "
    "He 정규분포는 sqrt(2 / n), He 균등분포는 a = sqrt(6 / n)이다(기본값 mode='fan_in'). 균등분포 "
    "U(-a, a)의 표준편차는 a / sqrt(3)이므로 같은 방식의 정규분포와 균등분포는 분산이 같다. "
    "표준편차를 2 / sqrt(n + m)으로 적은 필기는 틀렸다: 이 값은 언제나 올바른 값의 sqrt(2)배다. "
    "gain 인자는 활성화 함수에 맞춰 표준편차에 곱해지는 값이다(tanh 5/3, ReLU sqrt(2)). "
    "합성곱 가중치에서는 fan_in = 입력 채널 수 * 커널 크기다. 이 레슨은 큰 텐서를 초기화해 "
    "표준편차와 최댓값을 재서 공식과 비교한다.",
    "explanation_en": "Let n = fan_in (inputs) and m = fan_out (outputs). Xavier normal uses "
    "standard deviation sqrt(2 / (n + m)); Xavier uniform draws from U(-a, a) with a = sqrt(6 / "
    "(n + m)). He normal uses sqrt(2 / n) and He uniform a = sqrt(6 / n) (mode='fan_in' by "
    "default). U(-a, a) has standard deviation a / sqrt(3), so the normal and uniform variants "
    "of each scheme have the same variance. Writing the Xavier-normal deviation as 2 / sqrt(n + "
    "m) is wrong: that value is always sqrt(2) times too large. The gain argument multiplies the "
    "deviation to suit the activation (5/3 for tanh, sqrt(2) for ReLU). For convolution weights "
    "fan_in = input channels * kernel size. The lesson fills large tensors and measures their "
    "standard deviation and largest value against the formulas.",
    "tags": ["initialization", "xavier", "he", "kaiming", "formulas", "nn.init"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "xavier-normal",
        "question_ko": "PyTorch의 Xavier 정규 초기화 표준편차는? (n = fan_in, m = fan_out)",
        "question_en": (
            "What standard deviation does PyTorch's Xavier normal use? (n = fan_in, m = fan_out)"
        ),
        "choices_ko": [
            "2 / sqrt(n + m)",
            "sqrt(2 / (n + m))",
            "sqrt(2 / n)",
        ],
        "choices_en": [
            "2 / sqrt(n + m)",
            "sqrt(2 / (n + m))",
            "sqrt(2 / n)",
        ],
        "correct": 2,
        "answer_ko": "sqrt(2 / (n + m)). 2 / sqrt(n + m)는 언제나 sqrt(2)배 크다.",
        "answer_en": "sqrt(2 / (n + m)); 2 / sqrt(n + m) is always sqrt(2) times too large.",
        "proof": 'assert close(measured, right), "PyTorch uses sqrt(2 / (n + m))"',
    },
    {
        "key": "uniform-std",
        "question_ko": "균등분포 U(-a, a)의 표준편차는?",
        "question_en": "What is the standard deviation of the uniform distribution U(-a, a)?",
        "answer_ko": "a / sqrt(3). 그래서 균등과 정규 변형의 분산이 같아지도록 a를 정한다.",
        "answer_en": (
            "a / sqrt(3); that is how a is chosen so the uniform and normal variants "
            "have the same variance."
        ),
    },
]

import math

import torch
from torch import nn

TOLERANCE = 0.03  # relative; each tensor has >= 18,000 values, so the estimate is within ~1%


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


# The formulas, written out. n = fan_in, m = fan_out.
def xavier_normal_std(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform_bound(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


def he_normal_std(fan: int) -> float:
    return math.sqrt(2.0 / fan)


def he_uniform_bound(fan: int) -> float:
    return math.sqrt(6.0 / fan)


def notes_xavier_normal_std(fan_in: int, fan_out: int) -> float:
    """What the study notes wrote: 2 / sqrt(n + m). Kept only to show that it is wrong."""
    return 2.0 / math.sqrt(fan_in + fan_out)


def fans(weight: torch.Tensor) -> tuple[int, int]:
    """fan_in and fan_out of a Linear (out, in) or Conv (out, in, *kernel) weight."""
    receptive_field = math.prod(weight.shape[2:])
    return weight.shape[1] * receptive_field, weight.shape[0] * receptive_field


def close(measured: float, expected: float) -> bool:
    return abs(measured - expected) <= TOLERANCE * expected


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)

    # The tensors are filled on the CPU, by its seeded generator, and only then moved to the
    # device for measuring: every device measures the same numbers (a GPU's own generator
    # would draw others).
    linear = torch.empty(200, 600)  # nn.Linear(600, 200).weight: n=600, m=200
    conv = torch.empty(64, 32, 3, 3)  # nn.Conv2d(32, 64, 3).weight
    n, m = fans(linear)
    cn, cm = fans(conv)
    assert (n, m) == (600, 200) and (cn, cm) == (32 * 9, 64 * 9), "fan computation is off"
    tanh_gain = nn.init.calculate_gain("tanh")
    relu_gain = nn.init.calculate_gain("relu")
    assert math.isclose(tanh_gain, 5 / 3) and math.isclose(relu_gain, math.sqrt(2)), "gains"

    relu = {"nonlinearity": "relu"}
    # (label, nn.init function, its keyword arguments, tensor, formula, "std" or "bound")
    checks = [
        ("xavier_normal_", nn.init.xavier_normal_, {}, linear, xavier_normal_std(n, m), "std"),
        (
            "xavier_normal_ gain=5/3",
            nn.init.xavier_normal_,
            {"gain": tanh_gain},
            linear,
            xavier_normal_std(n, m, gain=tanh_gain),
            "std",
        ),
        (
            "xavier_normal_ (conv)",
            nn.init.xavier_normal_,
            {},
            conv,
            xavier_normal_std(cn, cm),
            "std",
        ),
        (
            "xavier_uniform_",
            nn.init.xavier_uniform_,
            {},
            linear,
            xavier_uniform_bound(n, m),
            "bound",
        ),
        ("kaiming_normal_", nn.init.kaiming_normal_, relu, linear, he_normal_std(n), "std"),
        (
            "kaiming_normal_ fan_out",
            nn.init.kaiming_normal_,
            {**relu, "mode": "fan_out"},
            linear,
            he_normal_std(m),
            "std",
        ),
        ("kaiming_normal_ (conv)", nn.init.kaiming_normal_, relu, conv, he_normal_std(cn), "std"),
        ("kaiming_uniform_", nn.init.kaiming_uniform_, relu, linear, he_uniform_bound(n), "bound"),
    ]

    print(f"Linear weight: fan_in n={n}, fan_out m={m}; Conv weight: fan_in={cn}, fan_out={cm}")
    print(f"{'nn.init call':26s} {'formula':>9s} {'measured':>9s}  (std, or bound = max |w|)")
    for name, init_fn, kwargs, weight, formula, kind in checks:
        init_fn(weight, **kwargs)
        on_device = weight.to(device)
        std = on_device.std().item()
        peak = on_device.abs().max().item()
        measured = std if kind == "std" else peak
        print(f"{name:26s} {formula:9.5f} {measured:9.5f}  {kind}")
        assert close(measured, formula), f"{name}: measured {measured:.5f}, formula {formula:.5f}"
        if kind == "bound":
            # a is rounded to float32 before drawing (sqrt(6/600) = 0.1 becomes 0.100000001),
            # so allow that last-digit rounding and nothing more.
            assert peak <= formula * (1 + 1e-6), f"{name}: a value lies outside U(-a, a)"
            assert close(std, formula / math.sqrt(3)), f"{name}: U(-a, a) should have std a/sqrt(3)"

    # nn.Linear's own default: kaiming_uniform_ with a=sqrt(5), i.e. U(-1/sqrt(n), 1/sqrt(n)).
    default = nn.Linear(n, m).to(device).weight.detach()
    bound = 1 / math.sqrt(n)
    print(f"{'nn.Linear default':26s} {bound:9.5f} {default.abs().max().item():9.5f}  bound")
    assert close(default.abs().max().item(), bound), "nn.Linear's default bound is 1/sqrt(n)"

    # The notes' Xavier-normal formula.
    nn.init.xavier_normal_(linear)
    measured = linear.to(device).std().item()
    wrong = notes_xavier_normal_std(n, m)
    right = xavier_normal_std(n, m)
    print(f"Xavier normal, n={n}, m={m}: measured std {measured:.5f}")
    print(f"  sqrt(2 / (n + m)) = {right:.5f}  <- what nn.init uses")
    print(f"  2 / sqrt(n + m)   = {wrong:.5f}  <- the notes, {wrong / right:.4f}x too large")
    assert close(measured, right), "PyTorch uses sqrt(2 / (n + m))"
    assert not close(measured, wrong), "PyTorch does not use 2 / sqrt(n + m)"
    for size in (2, 10, 800, 123_457):
        ratio = notes_xavier_normal_std(size, 0) / xavier_normal_std(size, 0)
        assert math.isclose(ratio, math.sqrt(2)), "the two formulas always differ by sqrt(2)"
    print("the notes' value is sqrt(2) times the true one for every n + m, so they never agree")


if __name__ == "__main__":
    main()
