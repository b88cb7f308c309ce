"""Lesson: why a model defines `forward()` but no `backward()`, and when you do write one.

Run it on its own: `python lessons/l05_no_backward_needed.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "no-backward-needed",
    "day": 3,
    "title_ko": "backward()를 직접 쓰지 않는 이유와 직접 쓰는 경우",
    "title_en": "Why we write no backward(), and when we do",
    "question_ko": "nn.Module에는 __init__과 forward()만 정의하는데, 기울기는 누가 어떻게 "
    "계산할까? 직접 backward를 써야 하는 경우는 언제일까?",
    "question_en": "A module defines only __init__ and forward(); who computes the gradients, "
    "and when would you write a backward yourself?",
    "explanation_ko": "forward를 실행하는 동안 autograd가 requires_grad인 텐서에 대한 연산을 "
    "하나하나 기록해 계산 그래프(grad_fn의 연결)를 만든다. loss.backward()는 이 그래프를 거꾸로 "
    "따라가며 연쇄 법칙으로 각 파라미터의 .grad를 채운다. 모든 기본 연산은 미분 규칙을 이미 알고 "
    "있으므로 모델에 backward를 쓸 필요가 없다. 수치적으로 더 안정적인 공식이 필요하거나, "
    "메모리를 아끼거나, autograd가 모르는 연산을 쓸 때는 torch.autograd.Function을 상속해 "
    "forward와 backward를 직접 쓴다. 이때는 torch.autograd.gradcheck로 float64에서 수치 미분과 "
    "비교해 backward가 맞는지 확인한다.",
    "explanation_en": "While forward() runs, autograd records every operation on tensors that "
    "require grad, building a graph of grad_fn nodes. loss.backward() walks that graph in "
    "reverse and applies the chain rule, filling .grad for each parameter. Every built-in "
    "operation already knows its derivative, so a model needs no backward of its own. When you "
    "need a more stable formula, want to save memory, or use an operation autograd cannot see "
    "into, subclass torch.autograd.Function and write forward and backward yourself; then check "
    "the backward against finite differences with torch.autograd.gradcheck in float64.",
    "tags": ["autograd", "backward", "autograd.Function", "gradcheck"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "gradcheck",
        "question_ko": (
            "직접 쓴 autograd.Function의 backward가 틀렸을 때 torch.autograd.gradcheck는?"
        ),
        "question_en": (
            "Given a wrong backward in your own autograd.Function, what does "
            "torch.autograd.gradcheck do?"
        ),
        "choices_ko": [
            "받아들인다",
            "거부한다 (유한 차분과 다르므로)",
            "float32에서만 거부한다",
        ],
        "choices_en": [
            "Accepts it",
            "Rejects it (it disagrees with finite differences)",
            "Rejects it only in float32",
        ],
        "correct": 2,
        "answer_ko": "gradcheck는 float64에서 유한 차분과 비교해 틀린 backward를 거부한다.",
        "answer_en": (
            "gradcheck compares with finite differences (in float64) and rejects the "
            "wrong backward."
        ),
        "proof": 'assert not wrong, "gradcheck should reject the wrong backward"',
    },
    {
        "key": "why-none",
        "question_ko": "모델에 backward를 직접 쓰지 않아도 되는 이유는?",
        "question_en": "Why does a model need no backward of its own?",
        "answer_ko": (
            "autograd가 forward의 연산을 grad_fn 그래프로 기록하고, 각 내장 연산이 "
            "자기 도함수를 알기 때문이다."
        ),
        "answer_en": (
            "Autograd records forward's operations as a graph of grad_fn nodes, and "
            "every built-in operation knows its derivative."
        ),
    },
]

import torch
from torch import nn


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


class LogSumExp(torch.autograd.Function):
    """log(sum(exp(x))) over the last dimension, with a hand-written backward.

    forward subtracts the maximum first so that exp() cannot overflow;
    d/dx_i log(sum_j exp(x_j)) = exp(x_i) / sum_j exp(x_j) = softmax(x)_i.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        peak = x.max(dim=-1, keepdim=True).values
        result = peak.squeeze(-1) + (x - peak).exp().sum(dim=-1).log()
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        x, result = ctx.saved_tensors
        softmax = (x - result.unsqueeze(-1)).exp()
        return grad_out.unsqueeze(-1) * softmax


class WrongLogSumExp(torch.autograd.Function):
    """The same forward with a deliberately wrong backward (forgets to normalise)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.logsumexp(x, dim=-1)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * x.exp()


def graph_names(node, depth: int = 0, seen=None) -> list[str]:
    """The grad_fn nodes autograd recorded, from the loss back to the leaves."""
    seen = set() if seen is None else seen
    if node is None or node in seen:
        return []
    seen.add(node)
    names = ["  " * depth + type(node).__name__]
    for child, _ in node.next_functions:
        names += graph_names(child, depth + 1, seen)
    return names


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)

    # 1. A model with forward() only; autograd records the graph while it runs.
    model = nn.Linear(3, 1).to(device)
    # Data drawn on the CPU and moved, so every device sees the same numbers.
    x = torch.randn(8, 3).to(device)
    y = torch.randn(8, 1).to(device)
    loss = nn.functional.mse_loss(model(x), y)
    print("graph recorded during forward:")
    print("\n".join(graph_names(loss.grad_fn)))
    assert type(loss.grad_fn).__name__.startswith("MseLoss"), "the loss should end the graph"
    loss.backward()

    # 2. The gradients match the chain rule done by hand: L = mean((xW^T + b - y)^2).
    residual = (x @ model.weight.T + model.bias - y).detach()
    grad_w = 2 * residual.T @ x / x.shape[0]
    grad_b = 2 * residual.sum(dim=0) / x.shape[0]
    # float32, and the two sides sum in different orders: equal up to rounding, not bit for bit.
    tight = {"rtol": 1e-4, "atol": 1e-5}
    assert torch.allclose(model.weight.grad, grad_w, **tight), "weight grad != hand formula"
    assert torch.allclose(model.bias.grad, grad_b, **tight), "bias grad != hand formula"
    print("autograd's weight grad:", [round(v, 5) for v in model.weight.grad.view(-1).tolist()])
    print("by hand:               ", [round(v, 5) for v in grad_w.view(-1).tolist()])

    # 3. A custom autograd.Function: forward and backward written by hand.
    z = torch.randn(4, 6, dtype=torch.float64).to(device).requires_grad_()
    ours = LogSumExp.apply(z)
    assert torch.allclose(ours, torch.logsumexp(z, dim=-1)), "forward disagrees with torch"
    weights = torch.randn(4, dtype=torch.float64).to(device)
    (grad_ours,) = torch.autograd.grad((ours * weights).sum(), z)
    (grad_torch,) = torch.autograd.grad((torch.logsumexp(z, dim=-1) * weights).sum(), z)
    assert torch.allclose(grad_ours, grad_torch), "backward disagrees with torch's gradient"
    big = torch.tensor([[1000.0, 1001.0]], dtype=torch.float64, device=device)
    stable = LogSumExp.apply(big).item()
    naive = big.exp().sum().log().item()
    print(f"logsumexp([1000, 1001]): ours = {stable:.4f}, naive exp/log = {naive}")
    assert abs(stable - 1001.3133) < 1e-3 and naive == float("inf"), "stability claim failed"

    # 4. gradcheck compares backward with finite differences (needs float64).
    ok = torch.autograd.gradcheck(LogSumExp.apply, (z,), eps=1e-6, atol=1e-4)
    assert ok, "gradcheck should accept the correct backward"
    wrong = torch.autograd.gradcheck(WrongLogSumExp.apply, (z,), raise_exception=False)
    assert not wrong, "gradcheck should reject the wrong backward"
    print(f"gradcheck: correct backward -> {ok}, backward without normalising -> {wrong}")


if __name__ == "__main__":
    main()
