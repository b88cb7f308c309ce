"""Lesson: `model(x)` versus `model.forward(x)` — hooks run only through `__call__`.

Run it on its own: `python lessons/l04_call_vs_forward.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "call-vs-forward",
    "day": 2,
    "title_ko": "model(x)와 model.forward(x)의 차이",
    "title_en": "Calling the module versus calling forward()",
    "question_ko": "forward()를 직접 부르지 않고 model(x)처럼 객체를 호출하는 이유는? 둘의 "
    "결과는 언제 달라질까?",
    "question_en": "Why do we call the module, model(x), instead of model.forward(x), and when "
    "do the two give different results?",
    "explanation_ko": "model(x)는 nn.Module.__call__을 거친다. __call__은 forward 전후에 등록된 "
    "forward pre-hook과 forward hook을 실행하고, backward hook이 동작하도록 준비한 뒤 forward를 "
    "부른다. model.forward(x)를 직접 부르면 이 과정을 건너뛰므로 그 모듈에 건 훅이 실행되지 "
    "않는다. 훅이 출력을 바꾸거나(예: 값 자르기) 활성값을 기록한다면 결과가 달라진다. 다만 "
    "forward 안에서 하위 모듈은 self.layer(x)로 호출되므로 하위 모듈의 훅은 여전히 실행된다. "
    "그러니 항상 model(x)로 호출하자.",
    "explanation_en": "model(x) goes through nn.Module.__call__, which runs any registered "
    "forward pre-hooks and forward hooks around forward() and sets up backward hooks. Calling "
    "model.forward(x) directly skips all of that, so hooks registered on that module never run. "
    "If a hook changes the output (say, clamps it) or records activations, the two calls "
    "disagree. Submodules are still called as self.layer(x) inside forward(), so hooks on the "
    "submodules keep running either way. Call the module, not forward().",
    "tags": ["nn.Module", "forward", "hooks", "__call__"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "hooks",
        "question_ko": "model.forward(x)를 직접 부르면 model에 건 forward hook은?",
        "question_en": (
            "Calling model.forward(x) directly, do the forward hooks registered on model run?"
        ),
        "choices_ko": [
            "실행된다",
            "실행되지 않는다",
            "backward에서만 실행된다",
        ],
        "choices_en": [
            "They run",
            "They do not run",
            "They run during backward only",
        ],
        "correct": 2,
        "answer_ko": "훅은 nn.Module.__call__이 실행하므로 forward()를 직접 부르면 건너뛴다.",
        "answer_en": (
            "Hooks are run by nn.Module.__call__, so calling forward() directly skips them."
        ),
        "proof": 'assert calls["pre"] == 1 and calls["forward"] == 1',
    },
    {
        "key": "submodules",
        "question_ko": "model.forward(x)를 부를 때 하위 모듈에 건 훅은 왜 여전히 실행될까?",
        "question_en": "Why do hooks on submodules still run when you call model.forward(x)?",
        "answer_ko": (
            "forward 안에서 하위 모듈은 self.layer(x)로, 곧 __call__을 거쳐 호출되기 때문이다."
        ),
        "answer_en": (
            "Inside forward() the submodules are called as self.layer(x), through __call__."
        ),
    },
]

import torch
from torch import nn


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)

    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)
    # Drawn on the CPU (the same data on every device); requires grad so grad_input exists.
    x = torch.randn(5, 3).to(device).requires_grad_()
    calls = {"pre": 0, "forward": 0, "backward": 0, "inner": 0}

    def pre_hook(module, args):
        calls["pre"] += 1

    def forward_hook(module, args, output):
        calls["forward"] += 1

    def backward_hook(module, grad_input, grad_output):
        calls["backward"] += 1

    def inner_hook(module, args, output):
        calls["inner"] += 1

    model.register_forward_pre_hook(pre_hook)
    model.register_forward_hook(forward_hook)
    model.register_full_backward_hook(backward_hook)
    model[0].register_forward_hook(inner_hook)  # on a submodule

    # 1. model(x): every hook runs.
    out_call = model(x)
    out_call.sum().backward()
    print("after model(x) + backward:        ", calls)
    assert calls == {"pre": 1, "forward": 1, "backward": 1, "inner": 1}, calls

    # 2. model.forward(x): the outer module's hooks are skipped; the submodule's are not.
    out_forward = model.forward(x)
    out_forward.sum().backward()
    print("after model.forward(x) + backward:", calls)
    assert calls["pre"] == 1 and calls["forward"] == 1, "forward() must skip the module's hooks"
    assert calls["backward"] == 1, "no backward hook without __call__"
    assert calls["inner"] == 2, "model[0] is still called through __call__ inside forward()"
    assert torch.allclose(out_call, out_forward), "without changing hooks the outputs agree"

    # 3. A hook that changes the output makes the two calls disagree.
    clamp = model.register_forward_hook(lambda module, args, output: output.clamp(-0.1, 0.1))
    with torch.no_grad():
        clamped = model(x)
        raw = model.forward(x)
    print(f"with a clamping hook: max |model(x)| = {clamped.abs().max().item():.3f}, ", end="")
    print(f"max |model.forward(x)| = {raw.abs().max().item():.3f}")
    assert clamped.abs().max().item() <= 0.1 + 1e-6, "the hook's return value replaces the output"
    assert raw.abs().max().item() > 0.1, "forward() never sees the clamping hook"
    assert not torch.allclose(clamped, raw), "the two calls should now disagree"

    # 4. Removing a hook through its handle.
    clamp.remove()
    with torch.no_grad():
        assert torch.allclose(model(x), model.forward(x)), "after remove() they agree again"
    print("after handle.remove(), model(x) equals model.forward(x) again")


if __name__ == "__main__":
    main()
