"""Lesson: N(0, 1) weights versus Xavier through sigmoid and tanh layers (saturation).

Run it on its own: `python lessons/l08_xavier_vs_normal_saturation.py`; it saves
`l08_activation_histograms.png` in $STUDYBOT_OUTPUT_DIR (or the current folder).
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "xavier-vs-normal-saturation",
    "day": 4,
    "title_ko": "N(0,1) 초기화와 Xavier 초기화: sigmoid/tanh의 포화",
    "title_en": "N(0,1) versus Xavier initialisation: sigmoid and tanh saturation",
    "question_ko": "가중치를 표준정규분포 N(0,1)로 초기화하면 sigmoid나 tanh 층을 지난 "
    "활성값은 어떻게 분포할까? Xavier 초기화는 무엇을 바꿀까?",
    "question_en": "How are activations distributed after sigmoid or tanh layers when weights "
    "are drawn from N(0,1), and what does Xavier initialisation change?",
    "explanation_ko": "입력이 n개인 뉴런의 가중합은 분산이 대략 n * Var(w) * E[x^2]이다. "
    "Var(w)=1이고 n=100이면 가중합의 표준편차가 10 가까이 되어 sigmoid 출력은 거의 0 아니면 "
    "1, tanh 출력은 -1 아니면 1에 몰린다(포화). 포화된 곳에서는 활성화 함수의 기울기가 거의 "
    "0이라 역전파되는 기울기가 사라진다. Xavier(Glorot) 초기화는 Var(w) = 2 / (fan_in + "
    "fan_out)로 층의 크기에 맞춰 분산을 줄여, 가중합이 활성화 함수의 기울기가 큰 가운데 "
    "영역에 머물게 한다. 그림의 히스토그램이 층마다 이 차이를 보여 준다.",
    "explanation_en": "A neuron's weighted sum over n inputs has a variance of roughly n * "
    "Var(w) * E[x^2]. With Var(w) = 1 and n = 100 its standard deviation is near 10, so "
    "sigmoid outputs pile up at 0 and 1 and tanh outputs at -1 and 1: the units saturate. "
    "Where they saturate the activation's slope is nearly zero, so the gradients flowing back "
    "vanish. Xavier (Glorot) initialisation sets Var(w) = 2 / (fan_in + fan_out), scaling the "
    "weights to the layer size so that the weighted sums stay in the activation's steep middle "
    "range. The histograms show the difference layer by layer.",
    "tags": ["initialization", "xavier", "sigmoid", "tanh", "saturation", "plot"],
    "draws": True,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "saturation",
        "question_ko": "sigmoid나 tanh 층을 N(0,1)로 초기화하면 유닛들은 어떻게 될까?",
        "question_en": (
            "With N(0,1) initialisation, what happens to the units of a sigmoid or tanh layer?"
        ),
        "choices_ko": [
            "거의 포화되지 않는다",
            "많은 유닛이 포화되어 기울기가 작아진다",
            "모두 0을 출력한다",
        ],
        "choices_en": [
            "Hardly any saturate",
            "Many saturate and the slope becomes small",
            "They all output zero",
        ],
        "correct": 2,
        "answer_ko": (
            "입력의 합이 커져 많은 유닛이 포화되고 평균 기울기가 작아진다. Xavier는 이를 막는다."
        ),
        "answer_en": (
            "The summed inputs grow large, many units saturate and the mean slope is "
            "small; Xavier prevents it."
        ),
        "proof": "assert min(normal_sat) > 0.3",
    },
    {
        "key": "why-xavier",
        "question_ko": "Xavier 초기화는 무엇을 지키려고 분산을 정할까?",
        "question_en": "What does Xavier initialisation choose its variance to preserve?",
        "answer_ko": (
            "층을 지나도 활성값과 기울기의 분산이 비슷하게 유지되도록 한다 (fan_in과 "
            "fan_out을 함께 쓴다)."
        ),
        "answer_en": (
            "The variance of activations and gradients from layer to layer (it uses "
            "both fan_in and fan_out)."
        ),
    },
]

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import nn

WIDTH = 100
DEPTH = 5
BATCH = 1000


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


def output_dir() -> Path:
    folder = Path(os.environ.get("STUDYBOT_OUTPUT_DIR", "."))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def activations(init: str, act, x: torch.Tensor) -> list[torch.Tensor]:
    """Push x through DEPTH bias-free linear layers, each followed by `act`."""
    outputs = []
    h = x
    for _ in range(DEPTH):
        # Initialised on the CPU with the seeded CPU generator, then moved: the same weights
        # on every device (a GPU's own generator would draw other numbers).
        layer = nn.Linear(WIDTH, WIDTH, bias=False)
        if init == "N(0,1)":
            nn.init.normal_(layer.weight, mean=0.0, std=1.0)
        else:
            nn.init.xavier_uniform_(layer.weight)
        layer = layer.to(x.device)
        with torch.no_grad():
            h = act(layer(h))
        outputs.append(h.cpu())
    return outputs


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)
    x = torch.randn(BATCH, WIDTH).to(device)  # drawn on the CPU: the same on every device

    runs = {}
    for act_name, act in (("sigmoid", torch.sigmoid), ("tanh", torch.tanh)):
        for init in ("N(0,1)", "Xavier"):
            runs[(act_name, init)] = activations(init, act, x)

    # The activation's slope at each output, as a fraction of its peak slope
    # (sigmoid: a(1 - a), peak 1/4 at 0; tanh: 1 - a^2, peak 1 at 0).
    def relative_slope(act_name: str, a: torch.Tensor) -> torch.Tensor:
        return 1 - a**2 if act_name == "tanh" else 4 * a * (1 - a)

    # A unit counts as saturated when its slope is below 5% of the peak.
    def saturated(act_name: str, a: torch.Tensor) -> float:
        return (relative_slope(act_name, a) < 0.05).float().mean().item()

    def slope(act_name: str, a: torch.Tensor) -> float:
        return relative_slope(act_name, a).mean().item()

    print("fraction of saturated units per layer | mean slope at the last layer (1 = peak):")
    stats = {}
    for (act_name, init), outs in runs.items():
        fractions = [saturated(act_name, a) for a in outs]
        stats[(act_name, init)] = (fractions, slope(act_name, outs[-1]))
        row = " ".join(f"{f:5.1%}" for f in fractions)
        print(f"  {act_name:7s} {init:6s}: {row} | slope {stats[(act_name, init)][1]:.3f}")

    for act_name in ("sigmoid", "tanh"):
        normal_sat, normal_slope = stats[(act_name, "N(0,1)")]
        xavier_sat, xavier_slope = stats[(act_name, "Xavier")]
        # With sigmoid + N(0,1) even the least saturated layer has about 48% of its units
        # saturated, give or take 3 points between draws of the weights (tanh: about 80%);
        # 30% leaves room for any draw and still means "many".
        assert min(normal_sat) > 0.3, f"{act_name} + N(0,1): many units should saturate"
        assert max(xavier_sat) < 0.05, f"{act_name} + Xavier: few units should saturate"
        assert normal_slope < 0.35, f"{act_name} + N(0,1): the mean slope should be small"
        assert xavier_slope > 0.6, f"{act_name} + Xavier: the mean slope should stay large"
        assert xavier_slope > 2.5 * normal_slope, f"{act_name}: Xavier should keep the slope"

    fig, axes = plt.subplots(2, 2, figsize=(9, 6))
    for ax, ((act_name, init), outs) in zip(axes.T.flat, runs.items(), strict=True):
        low = -1.0 if act_name == "tanh" else 0.0
        for layer, a in enumerate(outs):
            ax.hist(
                a.flatten().numpy(),
                bins=30,
                range=(low, 1.0),
                density=True,
                histtype="step",
                linewidth=1.4,
                label=f"layer {layer + 1}",
            )
        fractions = stats[(act_name, init)][0]
        ax.set_title(f"{act_name}, {init} weights: {sum(fractions) / DEPTH:.0%} saturated")
        ax.set_xlabel(f"{act_name} output")
        ax.set_ylabel("density")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Activation histograms: N(0,1) weights saturate, Xavier stays in the middle")
    fig.tight_layout()
    path = output_dir() / "l08_activation_histograms.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    size = path.stat().st_size
    assert 0 < size < 150_000, f"the image should be small, got {size} bytes"
    print(f"saved {path.name} ({size // 1024} KB)")


if __name__ == "__main__":
    main()
