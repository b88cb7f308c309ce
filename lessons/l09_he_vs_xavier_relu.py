"""Lesson: He (Kaiming) versus Xavier initialisation in a deep ReLU network.

Run it on its own: `python lessons/l09_he_vs_xavier_relu.py`; it saves
`l09_activation_scale_by_depth.png` in $STUDYBOT_OUTPUT_DIR (or the current folder).
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "he-vs-xavier-relu",
    "day": 4,
    "title_ko": "ReLU에는 He 초기화: 깊이에 따른 활성값 크기",
    "title_en": "He initialisation for ReLU: activation scale across depth",
    "question_ko": "ReLU 신경망에서 Xavier 초기화를 쓰면 층이 깊어질수록 활성값이 어떻게 "
    "변하고, He 초기화는 이를 어떻게 바로잡을까?",
    "question_en": "In a ReLU network, what happens to the activations layer after layer under "
    "Xavier initialisation, and how does He initialisation fix it?",
    "explanation_ko": "가중합 z의 분산은 fan_in * Var(w) * E[h^2]이다. ReLU는 대칭인 z의 절반을 "
    "0으로 만들므로 E[h^2] = Var(z) / 2가 된다. fan_in = fan_out인 층에서 Xavier는 "
    "Var(w) = 1 / fan_in이라 층마다 신호의 크기(제곱 평균)가 절반으로 줄고, 20층을 지나면 거의 "
    "0이 된다(기울기도 함께 사라진다). He(Kaiming) 초기화는 Var(w) = 2 / fan_in으로 이 절반을 "
    "보정해 깊이와 상관없이 크기를 유지한다. N(0,1)처럼 너무 크게 잡으면 반대로 층마다 "
    "fan_in / 2배씩 커져 폭발한다.",
    "explanation_en": "The weighted sum z has variance fan_in * Var(w) * E[h^2]. ReLU zeroes "
    "the negative half of a symmetric z, so E[h^2] = Var(z) / 2. For square layers Xavier gives "
    "Var(w) = 1 / fan_in, so the signal's mean square halves at every layer and is almost gone "
    "after 20 layers (and so are the gradients). He (Kaiming) initialisation uses Var(w) = 2 / "
    "fan_in, which makes up for that half, and the scale stays put at any depth. Weights that "
    "are too large, such as N(0,1), do the opposite: the scale grows by fan_in / 2 per layer and "
    "explodes.",
    "tags": ["initialization", "he", "kaiming", "relu", "xavier", "plot"],
    "draws": True,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "xavier-relu",
        "question_ko": "ReLU 20층을 Xavier로 초기화하면 활성값의 크기는?",
        "question_en": (
            "Twenty ReLU layers initialised with Xavier: what happens to the activations' scale?"
        ),
        "choices_ko": [
            "그대로 유지된다",
            "사라진다 (점점 작아진다)",
            "폭발한다",
        ],
        "choices_en": [
            "It holds",
            "It vanishes",
            "It explodes",
        ],
        "correct": 2,
        "answer_ko": (
            "ReLU는 절반을 0으로 만들어 층마다 분산이 줄어든다. He 초기화는 2배로 보정한다."
        ),
        "answer_en": (
            "ReLU zeroes half its inputs, so the variance shrinks each layer; He "
            "initialisation doubles it back."
        ),
        "proof": "assert xavier[-1] / xavier[0] < 1e-4",
    },
    {
        "key": "he-factor",
        "question_ko": "He 초기화의 표준편차 공식은?",
        "question_en": "What is the standard deviation of He (Kaiming) normal initialisation?",
        "answer_ko": (
            "sqrt(2 / fan_in). ReLU가 입력의 절반을 0으로 만드는 만큼 분산을 2배로 보정한다."
        ),
        "answer_en": "sqrt(2 / fan_in): twice the variance, since ReLU zeroes half its inputs.",
    },
]

import math
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import nn

WIDTH = 256
DEPTH = 20
BATCH = 256
NETWORKS = 4  # average over a few random networks: one network's scale wanders a little


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


def output_dir() -> Path:
    folder = Path(os.environ.get("STUDYBOT_OUTPUT_DIR", "."))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def init_weight(weight: torch.Tensor, init: str) -> None:
    if init == "Xavier":
        nn.init.xavier_normal_(weight)  # std = sqrt(2 / (fan_in + fan_out))
    elif init == "He":
        nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")  # sqrt(2 / fan_in)
    else:
        nn.init.normal_(weight, mean=0.0, std=1.0)


def mean_squares(init: str, x: torch.Tensor) -> list[float]:
    """E[h^2] after each of DEPTH bias-free Linear + ReLU layers, averaged over NETWORKS
    independently drawn networks (kept in float64 so that the exploding case cannot overflow)."""
    totals = [0.0] * DEPTH
    for _ in range(NETWORKS):
        h = x
        for layer in range(DEPTH):
            # Drawn on the CPU with the seeded generator, then moved: the same weights on
            # every device (a GPU's own generator would draw other numbers).
            weight = torch.empty(WIDTH, WIDTH)
            init_weight(weight, init)
            h = torch.relu(h @ weight.to(x.device).T)
            totals[layer] += h.double().pow(2).mean().item() / NETWORKS
    return totals


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)
    x = torch.randn(BATCH, WIDTH).to(device)  # drawn on the CPU: the same on every device
    inits = ("He", "Xavier", "N(0,1)")
    with torch.no_grad():
        curves = {init: mean_squares(init, x) for init in inits}

    print("mean square of the ReLU activations at layers 1, 5, 10, 20:")
    per_layer = {}
    for init, scale in curves.items():
        picked = "  ".join(f"{scale[i - 1]:9.3g}" for i in (1, 5, 10, 20))
        per_layer[init] = math.exp(math.log(scale[-1] / scale[0]) / (DEPTH - 1))
        print(f"  {init:7s}: {picked}   factor per layer {per_layer[init]:.3g}")

    expected = {"He": 1.0, "Xavier": 0.5, "N(0,1)": WIDTH / 2}
    for init, factor in expected.items():
        measured = per_layer[init]
        assert abs(measured / factor - 1) < 0.15, f"{init}: factor {measured:.3g}, not {factor}"
    he, xavier, normal = (curves[k] for k in inits)
    assert 0.4 < he[-1] / he[0] < 2.5, "He + ReLU: the scale should hold across 20 layers"
    assert xavier[-1] / xavier[0] < 1e-4, "Xavier + ReLU: the scale should vanish"
    assert normal[-1] / normal[0] > 1e30, "N(0,1) + ReLU: the scale should explode"

    fig, (near, wide) = plt.subplots(1, 2, figsize=(10, 4))
    layers = range(1, DEPTH + 1)
    for ax, shown in ((near, ("He", "Xavier")), (wide, inits)):
        for init in shown:
            label = f"{init} (x{per_layer[init]:.3g} per layer)"
            ax.plot(layers, curves[init], marker="o", markersize=3, label=label)
        ax.set_yscale("log")
        ax.set_xlabel(f"layer (Linear + ReLU, width {WIDTH})")
        ax.set_ylabel("mean square of activations")
        ax.set_xticks(range(0, DEPTH + 1, 5))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=9)
    near.set_title("He keeps the scale, Xavier halves it per layer")
    wide.set_title("N(0,1) weights explode")
    fig.tight_layout()
    path = output_dir() / "l09_activation_scale_by_depth.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    size = path.stat().st_size
    assert 0 < size < 150_000, f"the image should be small, got {size} bytes"
    print(f"saved {path.name} ({size // 1024} KB)")


if __name__ == "__main__":
    main()
