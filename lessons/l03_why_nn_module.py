"""Lesson: why a model subclasses `nn.Module`, and why `super().__init__()` comes first.

Run it on its own: `python lessons/l03_why_nn_module.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "why-nn-module",
    "day": 2,
    "title_ko": "모델이 nn.Module을 상속하고 super().__init__()을 부르는 이유",
    "title_en": "Why a model subclasses nn.Module and calls super().__init__()",
    "question_ko": "모델을 만들 때 왜 nn.Module을 상속하고, __init__ 맨 앞에서 "
    "super().__init__()을 호출해야 할까? 빠뜨리면 무엇이 깨질까?",
    "question_en": "Why does a model subclass nn.Module, why must __init__ call "
    "super().__init__() first, and what breaks if it does not?",
    "explanation_ko": "nn.Module은 속성 대입을 가로채서 nn.Parameter는 파라미터 목록에, "
    "nn.Module은 하위 모듈 목록에 등록한다. 그래서 parameters()로 옵티마이저에 넘길 수 있고, "
    "state_dict()로 저장하고, .to(device)로 한 번에 옮기고, train()/eval()로 Dropout 같은 층의 "
    "동작을 모든 하위 모듈에서 함께 바꾸고, 훅을 걸 수 있다. 이 목록들은 nn.Module.__init__이 "
    "만든다. super().__init__()을 부르지 않고 self.fc = nn.Linear(...)를 대입하면 등록할 곳이 "
    "없어 'cannot assign module before Module.__init__() call' AttributeError가 난다. 또 파이썬 "
    "list에 층을 넣으면 등록되지 않으니 nn.ModuleList를 써야 한다.",
    "explanation_en": "nn.Module intercepts attribute assignment: an nn.Parameter goes into the "
    "module's parameter table and an nn.Module into its table of submodules. That is what lets "
    "you pass parameters() to an optimizer, save everything with state_dict(), move it all with "
    ".to(device), switch layers such as Dropout between training and evaluation behaviour with "
    "train()/eval() throughout the tree, and attach hooks. Those tables are created by "
    "nn.Module.__init__. Skip super().__init__() and the first self.fc = nn.Linear(...) has "
    "nowhere to go: AttributeError 'cannot assign module before Module.__init__() call'. Layers "
    "kept in a plain Python list are not registered either; use nn.ModuleList.",
    "tags": ["nn.Module", "parameters", "state_dict", "train-eval", "super"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "plain-list",
        "question_ko": "층을 파이썬 리스트에 담아 두면 parameters()에 나타날까?",
        "question_en": "Do layers kept in a plain Python list show up in parameters()?",
        "choices_ko": [
            "나타난다",
            "나타나지 않는다 (nn.ModuleList를 써야 한다)",
            "첫 번째 층만 나타난다",
        ],
        "choices_en": [
            "Yes",
            "No (use nn.ModuleList)",
            "Only the first layer",
        ],
        "correct": 2,
        "answer_ko": "nn.Module은 속성 대입만 가로채므로 리스트 안의 층은 등록되지 않는다.",
        "answer_en": (
            "nn.Module intercepts attribute assignment only, so layers inside a list "
            "are not registered."
        ),
        "proof": "assert count(PlainList()) == 0",
    },
    {
        "key": "super-init",
        "question_ko": "super().__init__()을 빼먹으면 무슨 일이 생길까?",
        "question_en": "What happens if you leave out super().__init__()?",
        "answer_ko": (
            "매개변수와 하위 모듈 표가 없어 첫 self.fc = nn.Linear(...)에서 AttributeError가 난다."
        ),
        "answer_en": (
            "The parameter and submodule tables do not exist: the first self.fc = "
            "nn.Linear(...) raises AttributeError."
        ),
    },
]

import torch
from torch import nn


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


class SmallNet(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()  # creates the tables that the assignments below fill
        self.hidden = nn.Linear(n_in, n_hidden)
        self.drop = nn.Dropout(p=0.5)
        self.out = nn.Linear(n_hidden, n_out)
        self.scale = nn.Parameter(torch.ones(n_out))
        self.register_buffer("seen", torch.zeros((), dtype=torch.long))  # state, not trained

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen += x.shape[0]
        return self.out(self.drop(torch.relu(self.hidden(x)))) * self.scale


class ForgotSuper(nn.Module):
    def __init__(self) -> None:  # no super().__init__()
        self.fc = nn.Linear(2, 2)


class ForgotSuperNoLayers(nn.Module):
    def __init__(self) -> None:  # no super().__init__(), and only a plain attribute
        self.factor = 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class PlainList(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = [nn.Linear(4, 4), nn.Linear(4, 4)]  # a Python list: invisible


class WithModuleList(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)

    model = SmallNet(4, 32, 2).to(device)

    # 1. Parameters and submodules were registered just by assigning them.
    names = [name for name, _ in model.named_parameters()]
    print("parameters:", names)
    expected = {"scale", "hidden.weight", "hidden.bias", "out.weight", "out.bias"}
    assert set(names) == expected, f"registered parameters differ: {names}"
    assert count(model) == 4 * 32 + 32 + 32 * 2 + 2 + 2, "parameter count is off"
    children = [name for name, _ in model.named_children()]
    assert children == ["hidden", "drop", "out"], f"submodules: {children}"
    print("submodules:", children, "| trainable values:", count(model))

    # 2. .to(device) moved every parameter and buffer.
    assert all(p.device.type == device.type for p in model.parameters()), "a param was left"
    assert model.seen.device.type == device.type, "the buffer should move too"

    # 3. state_dict holds parameters AND buffers; buffers are not trained.
    keys = list(model.state_dict())
    print("state_dict keys:", keys)
    assert "seen" in keys and "seen" not in names, "a buffer is saved but not a parameter"

    # 4. The optimizer reaches every parameter through model.parameters().
    x = torch.randn(16, 4).to(device)  # drawn on the CPU: the same data on every device
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(x).pow(2).mean().backward()
    optimizer.step()
    changed = sum(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    assert changed == len(before), "one optimizer step should update every parameter"
    print(f"one SGD step updated {changed}/{len(before)} parameter tensors")

    # 5. train()/eval() reach every submodule; Dropout behaves differently in each mode.
    model.eval()
    assert not any(m.training for m in model.modules()), "eval() should reach all submodules"
    with torch.no_grad():
        assert torch.equal(model(x), model(x)), "eval mode: dropout is off, outputs repeat"
    model.train()
    assert all(m.training for m in model.modules()), "train() should reach all submodules"
    with torch.no_grad():
        assert not torch.equal(model(x), model(x)), "train mode: dropout makes outputs vary"
    print("eval(): repeated outputs equal | train(): dropout makes them differ")

    # 6. Hooks: a module can be observed without editing its code.
    shapes = []
    handle = model.hidden.register_forward_hook(lambda m, args, out: shapes.append(out.shape))
    model(x)
    handle.remove()
    assert shapes == [torch.Size([16, 32])], f"the hook should see one output: {shapes}"
    print("a forward hook on model.hidden saw", tuple(shapes[0]))

    # 7. Forgetting super().__init__().
    try:
        ForgotSuper()
    except AttributeError as err:
        print("ForgotSuper() ->", err)
        assert "Module.__init__() call" in str(err), f"unexpected message: {err}"
    else:
        raise AssertionError("assigning a layer before Module.__init__ should fail")
    quiet = ForgotSuperNoLayers()  # builds, but is broken as a module
    try:
        quiet(torch.ones(1))
    except AttributeError as err:
        print("ForgotSuperNoLayers()(x) ->", err)
    else:
        raise AssertionError("calling a module whose __init__ never ran should fail")

    # 8. A plain list hides layers; nn.ModuleList registers them.
    assert count(PlainList()) == 0, "layers in a Python list are not registered"
    assert count(WithModuleList()) == 2 * (4 * 4 + 4), "ModuleList should register both"
    print(
        "parameters in a list:", count(PlainList()), "| in nn.ModuleList:", count(WithModuleList())
    )


if __name__ == "__main__":
    main()
