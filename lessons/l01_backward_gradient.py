"""Lesson: what the `gradient` argument of `Tensor.backward()` does.

Run it on its own: `python lessons/l01_backward_gradient.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "backward-gradient",
    "day": 1,
    "title_ko": "backward()의 gradient 인자: 벡터-야코비안 곱",
    "title_en": "The gradient argument of backward(): a vector-Jacobian product",
    "question_ko": "backward(gradient=...)의 gradient 인자는 정확히 무슨 일을 하고, 출력이 "
    "스칼라가 아닐 때는 왜 꼭 넘겨야 할까?",
    "question_en": "What exactly does the gradient argument of backward(gradient=...) do, and "
    "why is it required when the output is not a scalar?",
    "explanation_ko": "autograd는 야코비안 행렬 J 전체를 만들지 않고, 벡터 v와의 곱 v^T J만 "
    "계산한다. y.backward(gradient=v)는 스칼라 (v * y).sum()을 입력에 대해 미분한 것과 같다. "
    "출력이 스칼라이면 v는 1로 정해지지만, 출력이 벡터이면 여러 출력을 어떻게 합칠지 알 수 "
    "없으므로 v를 직접 줘야 한다. v의 모양은 입력 변수의 개수가 아니라 출력 y의 모양과 같아야 "
    "한다. v를 모두 1로 주면 y.sum()의 기울기, 원-핫 벡터로 주면 야코비안의 한 행이 나온다. "
    "학습에서는 보통 v가 위쪽 층에서 내려온 dLoss/dy 역할을 한다.",
    "explanation_en": "Autograd never builds the full Jacobian J; it computes the product v^T J "
    "for a vector v you supply. y.backward(gradient=v) gives the same result as differentiating "
    "the scalar (v * y).sum() with respect to the inputs. For a scalar output v defaults to 1, "
    "but for a vector output autograd cannot guess how to combine the outputs, so you must pass "
    "v, shaped like the output y (not like the inputs). A vector of ones yields the gradient of "
    "y.sum(); a one-hot vector yields one row of the Jacobian. In training, v plays the role of "
    "dLoss/dy arriving from the layers above.",
    "tags": ["autograd", "backward", "jacobian"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "vector-output",
        "question_ko": "출력 y가 벡터일 때 gradient 없이 y.backward()를 부르면 어떻게 될까?",
        "question_en": (
            "What happens when you call y.backward() without gradient on a vector output y?"
        ),
        "choices_ko": [
            "모든 출력의 합에 대한 기울기를 구한다",
            "RuntimeError: 스칼라 출력에만 기울기를 암묵적으로 만들 수 있다",
            "첫 번째 출력의 기울기만 구한다",
        ],
        "choices_en": [
            "It computes the gradient of the sum of the outputs",
            "RuntimeError: grad can be implicitly created only for scalar outputs",
            "It computes the gradient of the first output only",
        ],
        "correct": 2,
        "answer_ko": (
            "오류가 난다. 여러 출력을 어떻게 합칠지 알 수 없으니 v를 gradient로 줘야 한다."
        ),
        "answer_en": (
            "It fails: autograd cannot guess how to combine the outputs, so pass v as gradient."
        ),
        "proof": 'assert "scalar outputs" in str(err)',
    },
    {
        "key": "what-it-computes",
        "question_ko": "y.backward(gradient=v)는 무엇을 계산하고, v의 모양은 무엇과 같아야 할까?",
        "question_en": "What does y.backward(gradient=v) compute, and what shape must v have?",
        "answer_ko": (
            "벡터-야코비안 곱 v^T J, 곧 (v * y).sum()의 기울기. v는 출력 y와 같은 모양이다."
        ),
        "answer_en": (
            "The vector-Jacobian product v^T J, i.e. the gradient of (v * y).sum(); v "
            "is shaped like the output y."
        ),
    },
]

import math

import torch


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


def f(x: torch.Tensor) -> torch.Tensor:
    """A map from R^3 to R^2, so its Jacobian is a 2 x 3 matrix."""
    return torch.stack([x[0] ** 2 * x[1], x[1] * torch.sin(x[2]) + x[0]])


def jacobian_by_hand(x: torch.Tensor) -> torch.Tensor:
    """d f_i / d x_j, worked out on paper."""
    a, b, c = (float(v) for v in x.detach().cpu())
    rows = [
        [2 * a * b, a**2, 0.0],
        [1.0, math.sin(c), b * math.cos(c)],
    ]
    return torch.tensor(rows, dtype=x.dtype, device=x.device)


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)
    opts = {"dtype": torch.float64, "device": device}

    x = torch.tensor([1.5, -2.0, 0.5], requires_grad=True, **opts)
    jac = jacobian_by_hand(x)
    print("Jacobian worked out by hand:\n", jac.cpu())

    # 1. A non-scalar output without `gradient` is refused.
    y = f(x)
    try:
        y.backward()
    except RuntimeError as err:
        print("y.backward() on a vector output ->", err)
        assert "scalar outputs" in str(err), f"unexpected message: {err}"
    else:
        raise AssertionError("backward() on a non-scalar output should have failed")

    # 2. `gradient` must have the OUTPUT's shape (2), not one entry per input (3).
    try:
        f(x).backward(gradient=torch.ones(3, **opts))
    except RuntimeError as err:
        print("a gradient shaped like the input ->", err)
        assert "shape" in str(err), f"unexpected message: {err}"
    else:
        raise AssertionError("a gradient with the wrong shape should have failed")
    x.grad = None

    # 3. backward(gradient=v) computes v^T J.
    v = torch.tensor([0.3, -1.2], **opts)
    f(x).backward(gradient=v)
    expected = v @ jac
    print("x.grad after backward(gradient=v):", x.grad.cpu().tolist())
    print("v^T J by hand:                   ", expected.cpu().tolist())
    assert torch.allclose(x.grad, expected), "backward(gradient=v) should equal v^T J"

    # 4. ...which is the gradient of the scalar (v * y).sum().
    vjp = x.grad.clone()
    x.grad = None
    (v * f(x)).sum().backward()
    assert torch.allclose(x.grad, vjp), "backward(v) should match (v * y).sum().backward()"
    print("(v * y).sum().backward() gives the same gradient")

    # 5. One-hot vectors pick out rows of the Jacobian; ones give the column sums.
    rows = []
    for i in range(2):
        x.grad = None
        f(x).backward(gradient=torch.nn.functional.one_hot(torch.tensor(i), 2).to(**opts))
        rows.append(x.grad.clone())
    jac_autograd = torch.stack(rows)
    assert torch.allclose(jac_autograd, jac), "one-hot v should rebuild the Jacobian row by row"
    jac_library = torch.autograd.functional.jacobian(f, x.detach())
    assert torch.allclose(jac_library, jac), "torch.autograd.functional.jacobian disagrees"
    x.grad = None
    f(x).backward(gradient=torch.ones(2, **opts))
    assert torch.allclose(x.grad, jac.sum(dim=0)), "v = ones should give the sum of the rows"
    print("one-hot v -> rows of J; v = ones -> gradient of y.sum() =", x.grad.cpu().tolist())

    # 6. Element-wise outputs have a diagonal Jacobian, so v = ones gives each derivative.
    a = torch.tensor([2.0, 3.0, -1.0], requires_grad=True, **opts)
    q = 2 * a**3 - a
    q.backward(gradient=torch.ones_like(q))
    assert torch.allclose(a.grad, 6 * a.detach() ** 2 - 1), "d(2a^3 - a)/da should be 6a^2 - 1"
    print("element-wise q = 2a^3 - a, a.grad =", a.grad.cpu().tolist(), "(= 6a^2 - 1)")

    # 7. Gradients accumulate in .grad until you reset them.
    a.grad = None
    for _ in range(2):
        (2 * a**3 - a).backward(gradient=torch.ones(3, **opts))
    assert torch.allclose(a.grad, 2 * (6 * a.detach() ** 2 - 1)), "two calls should add up"
    print("two backward calls without zeroing -> twice the gradient:", a.grad.cpu().tolist())


if __name__ == "__main__":
    main()
