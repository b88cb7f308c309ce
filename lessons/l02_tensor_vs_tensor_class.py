"""Lesson: `torch.tensor` (a factory function) versus `torch.Tensor` (the class).

Run it on its own: `python lessons/l02_tensor_vs_tensor_class.py`.
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "tensor-vs-tensor-class",
    "day": 2,
    "title_ko": "torch.tensor와 torch.Tensor의 차이",
    "title_en": "torch.tensor versus torch.Tensor",
    "question_ko": "torch.tensor와 torch.Tensor는 무엇이 다르고, 언제 메모리를 복사하고 언제 "
    "공유할까? as_tensor와 from_numpy는 어떻게 다를까?",
    "question_en": "How do torch.tensor and torch.Tensor differ, when does each copy memory and "
    "when does it share it, and where do as_tensor and from_numpy fit in?",
    "explanation_ko": "torch.Tensor는 모든 텐서의 클래스이고, torch.tensor는 데이터를 받아 그 "
    "클래스의 객체를 만드는 함수다. torch.tensor는 데이터에서 dtype을 추론하고(정수는 int64, "
    "실수는 float32, bool은 bool) 항상 새 메모리로 복사한다. torch.Tensor(...)는 옛 방식의 "
    "생성자로, 항상 기본 dtype(float32)을 쓰고, 정수 여러 개를 주면 데이터가 아니라 모양으로 "
    "해석해 초기화되지 않은 텐서를 만든다. dtype 인자도 받지 않고, float32 NumPy 배열을 주면 "
    "복사하지 않고 메모리를 공유하기도 한다. torch.as_tensor와 torch.from_numpy는 가능하면 NumPy "
    "배열의 메모리를 그대로 공유하므로 한쪽을 바꾸면 다른 쪽도 바뀐다. dtype이나 장치(GPU)가 "
    "달라지면 공유할 수 없어 복사한다.",
    "explanation_en": "torch.Tensor is the class of every tensor; torch.tensor is a function "
    "that builds an instance of it from data. torch.tensor infers the dtype from the data "
    "(integers become int64, floats float32, booleans bool) and always copies into new memory. "
    "torch.Tensor(...) is the legacy constructor: it always uses the default dtype (float32), "
    "reads several integers as a shape and returns uninitialised memory, accepts no dtype "
    "argument, and may even share a float32 NumPy array's memory instead of copying. "
    "torch.as_tensor and torch.from_numpy reuse a NumPy array's memory when they can, so writing "
    "to one shows in the other; a change of dtype or device (GPU) forces a copy.",
    "tags": ["tensor", "dtype", "memory", "numpy"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "legacy-shape",
        "question_ko": "torch.Tensor(3)의 모양은?",
        "question_en": "What is the shape of torch.Tensor(3)?",
        "choices_ko": [
            "torch.Size([]) (값 3인 스칼라)",
            "torch.Size([3]) (초기화되지 않은 3칸)",
            "torch.Size([1])",
        ],
        "choices_en": [
            "torch.Size([]) (a scalar holding 3)",
            "torch.Size([3]) (three uninitialised slots)",
            "torch.Size([1])",
        ],
        "correct": 2,
        "answer_ko": "예전 생성자는 정수를 모양으로 읽는다. 값 3인 스칼라는 torch.tensor(3)이다.",
        "answer_en": (
            "The legacy constructor reads integers as a shape; torch.tensor(3) is the scalar 3."
        ),
        "proof": "assert torch.Tensor(3).shape == torch.Size([3])",
    },
    {
        "key": "copy-or-share",
        "question_ko": (
            "NumPy 배열에서 만들 때 torch.tensor와 torch.as_tensor는 메모리를 어떻게 다루나?"
        ),
        "question_en": (
            "Built from a NumPy array, how do torch.tensor and torch.as_tensor treat memory?"
        ),
        "answer_ko": (
            "torch.tensor는 늘 복사하고, as_tensor(와 from_numpy)는 가능하면 배열의 "
            "메모리를 함께 쓴다."
        ),
        "answer_en": (
            "torch.tensor always copies; as_tensor (and from_numpy) share the array's "
            "memory when they can."
        ),
    },
]

import warnings

import numpy as np
import torch


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


def shares_memory(t: torch.Tensor, a: np.ndarray) -> bool:
    """True when the tensor's storage starts at the array's buffer (same bytes)."""
    return t.device.type == "cpu" and t.data_ptr() == a.__array_interface__["data"][0]


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)
    np.random.seed(0)

    # 1. One is a class, the other a function.
    assert isinstance(torch.Tensor, type), "torch.Tensor should be a class"
    assert not isinstance(torch.tensor, type), "torch.tensor should be a plain function"
    made = torch.tensor([1.0, 2.0])
    assert type(made) is torch.Tensor, "torch.tensor(...) should return a torch.Tensor"
    print("torch.Tensor is a class; torch.tensor(...) returns an instance of it")

    # 2. dtype: inferred by torch.tensor, always the default float by torch.Tensor.
    inferred = {
        "ints": torch.tensor([1, 2, 3]).dtype,
        "floats": torch.tensor([1.0, 2.5]).dtype,
        "bools": torch.tensor([True, False]).dtype,
        "legacy ints": torch.Tensor([1, 2, 3]).dtype,
    }
    for name, dtype in inferred.items():
        print(f"  {name:12s} -> {dtype}")
    assert inferred["ints"] == torch.int64, "integers should become int64"
    assert inferred["floats"] == torch.float32, "floats should become float32"
    assert inferred["bools"] == torch.bool, "booleans should stay bool"
    assert inferred["legacy ints"] == torch.get_default_dtype(), "Tensor() ignores the data type"
    try:
        torch.Tensor([1, 2], dtype=torch.float64)
    except TypeError:
        print("torch.Tensor(data, dtype=...) -> TypeError (the legacy constructor has no dtype)")
    else:
        raise AssertionError("torch.Tensor should not accept a dtype argument")

    # 3. Integers: data for torch.tensor, a SHAPE for torch.Tensor.
    assert torch.tensor(3).shape == torch.Size([]), "tensor(3) should be a 0-d scalar"
    assert torch.Tensor(3).shape == torch.Size([3]), "Tensor(3) should be 3 uninitialised slots"
    assert torch.Tensor(2, 3).shape == torch.Size([2, 3]), "Tensor(2, 3) should be a 2x3 shape"
    print("tensor(3).shape =", tuple(torch.tensor(3).shape), "| Tensor(3).shape =", (3,))

    # 4. Copy or share memory with NumPy.
    array = np.arange(4, dtype=np.float32)
    copied = torch.tensor(array)
    shared = torch.as_tensor(array)
    bridged = torch.from_numpy(array)
    legacy = torch.Tensor(array)
    array[0] = 100.0
    print("after array[0] = 100:")
    for name, t in [("tensor", copied), ("as_tensor", shared), ("from_numpy", bridged)]:
        same = shares_memory(t, array)
        print(f"  torch.{name:10s} sees {t[0].item():6.1f}, shares memory: {same}")
    print(f"  torch.Tensor     sees {legacy[0].item():6.1f} (float32 array: shared as well!)")
    assert copied[0].item() == 0.0 and not shares_memory(copied, array), "tensor() must copy"
    assert shared[0].item() == 100.0 and shares_memory(shared, array), "as_tensor should share"
    assert bridged[0].item() == 100.0 and shares_memory(bridged, array), "from_numpy should share"
    assert legacy[0].item() == 100.0, "Tensor(float32 ndarray) shares memory"
    bridged.add_(1.0)
    assert array[1] == 2.0, "an in-place change to the tensor should show in the array"
    print("bridged.add_(1) changed the NumPy array too:", array.tolist())

    # 5. A different dtype or device cannot share, so it copies.
    as_double = torch.as_tensor(array, dtype=torch.float64)
    assert not shares_memory(as_double, array), "a dtype change must copy"
    on_device = torch.as_tensor(array, device=device)
    array[2] = -7.0  # written after the conversion: only a tensor that shares the bytes sees it
    follows = on_device[2].item() == -7.0
    assert follows == (device.type == "cpu"), "only a CPU tensor can share the array's memory"
    assert follows == shares_memory(on_device, array), "seeing the write means sharing memory"
    action = "shares" if follows else "copies"
    print("as_tensor(array, dtype=float64) copies;", end=" ")
    print(f"as_tensor(array, device={device.type!r}) {action}")
    ints = torch.as_tensor(np.array([1, 2, 3]))
    assert ints.dtype == torch.int64, "NumPy's int64 should stay int64"

    # 6. as_tensor of a tensor is a no-op; tensor() of a tensor copies and warns.
    t = torch.randn(3).to(device)
    assert torch.as_tensor(t) is t, "as_tensor should return the very same tensor"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = torch.tensor(t)
    assert again.data_ptr() != t.data_ptr(), "tensor(t) should copy"
    assert any("clone" in str(w.message) for w in caught), "tensor(t) should warn about clone()"
    print("torch.tensor(t) copies and recommends t.detach().clone() instead")


if __name__ == "__main__":
    main()
