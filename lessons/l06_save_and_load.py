"""Lesson: saving and loading — file extensions, state_dict, checkpoints and weights_only.

Run it on its own: `python lessons/l06_save_and_load.py` (it writes only to a temporary folder).
"""

# ruff: noqa: E402 - the LESSON metadata block comes before the imports
LESSON = {
    "id": "save-and-load",
    "day": 3,
    "title_ko": "모델 저장과 불러오기: .pt/.pth, state_dict, 체크포인트, weights_only",
    "title_en": "Saving and loading: .pt/.pth, state_dict, checkpoints, weights_only",
    "question_ko": "PyTorch는 왜 .pt나 .pth로 저장할까? 모델 전체를 저장하는 것과 state_dict를 "
    "저장하는 것은 무엇이 다르고, 학습을 이어 하려면 무엇을 저장해야 할까?",
    "question_en": "Why does PyTorch save to .pt or .pth, how does saving the whole model differ "
    "from saving its state_dict, and what must a checkpoint hold to resume training?",
    "explanation_ko": "확장자는 관례일 뿐이다. torch.save는 이름과 상관없이 같은 zip 형식을 "
    "쓰므로 .h5라고 이름 붙여도 HDF5 파일이 되지는 않는다. 권장 방식은 state_dict(이름에서 "
    "텐서로 가는 사전)를 저장하고, 코드로 모델을 만든 뒤 load_state_dict로 채우는 것이다. 모델 "
    "객체 전체를 저장하면 클래스가 pickle로 기록되어, 나중에 그 클래스의 위치나 이름이 바뀌면 "
    "불러올 수 없다. 학습을 이어 하려면 모델과 함께 옵티마이저의 state_dict(예: Adam의 이동 "
    "평균), 에폭이나 스텝 수를 체크포인트에 담아야 한다. torch.load(weights_only=True)는 PyTorch "
    "2.6부터 기본값이며, 텐서와 기본 자료형만 풀고 임의의 파이썬 객체는 거부해 "
    "(pickle.UnpicklingError) 악성 파일의 코드 실행을 막는다.",
    "explanation_en": "The extension is only a convention: torch.save writes the same zip format "
    "whatever the name, so calling a file .h5 does not make it HDF5. The recommended way is to "
    "save the state_dict (a mapping from names to tensors), build the model in code, and fill it "
    "with load_state_dict. Saving the whole model object pickles a reference to its class, so "
    "the file stops loading once that class is renamed or moved. To resume training, a "
    "checkpoint needs the optimizer's state_dict (Adam's running averages, for example) and the "
    "epoch or step count as well as the model's. torch.load(weights_only=True), the default "
    "since PyTorch 2.6, unpickles only tensors and plain containers and refuses arbitrary Python "
    "objects with pickle.UnpicklingError, so a malicious file cannot run code.",
    "tags": ["torch.save", "torch.load", "state_dict", "checkpoint", "weights_only"],
    "draws": False,
}
# Review cards for /quiz (lessons/cards.py): a multiple-choice card cites the assert that
# proves its answer (`proof`, a part of an assert statement below).
CARDS = [
    {
        "key": "weights-only",
        "question_ko": "weights_only=True로 임의의 파이썬 객체가 든 파일을 읽으면?",
        "question_en": (
            "What does torch.load(weights_only=True) do with a file holding an "
            "arbitrary Python object?"
        ),
        "choices_ko": [
            "그대로 읽어 들인다",
            "pickle.UnpicklingError로 거부한다",
            "경고만 내고 읽는다",
        ],
        "choices_en": [
            "Loads it",
            "Refuses it with pickle.UnpicklingError",
            "Loads it with a warning",
        ],
        "correct": 2,
        "answer_ko": (
            "텐서와 기본 컨테이너만 풀기 때문에 다른 객체는 거부하고 코드를 실행하지 않는다."
        ),
        "answer_en": (
            "It unpickles only tensors and plain containers, so it refuses other "
            "objects and runs no code."
        ),
        "proof": "assert type(err) is pickle.UnpicklingError",
    },
    {
        "key": "checkpoint",
        "question_ko": (
            "학습을 이어 가려면 체크포인트에 모델의 state_dict 말고 무엇이 더 있어야 할까?"
        ),
        "question_en": (
            "Besides the model's state_dict, what must a checkpoint hold to resume training?"
        ),
        "answer_ko": "옵티마이저의 state_dict(예: Adam의 이동 평균)와 에폭이나 단계 수.",
        "answer_en": (
            "The optimizer's state_dict (e.g. Adam's running averages) and the epoch or step count."
        ),
    },
]

import pickle
import sys
import tempfile
import zipfile
from pathlib import Path

import torch
from torch import nn


def pick_device() -> torch.device:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device.type}")
    return device


class Regressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train(model, optimizer, x, y, steps: int) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return all(torch.equal(p, q) for p, q in pairs)


def largest_gap(a: nn.Module, b: nn.Module) -> float:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return max((p - q).abs().max().item() for p, q in pairs)


def main() -> None:
    device = pick_device()
    torch.manual_seed(0)
    # Drawn on the CPU and moved, so every device trains on the same data.
    x = torch.randn(64, 4).to(device)
    y = x[:, :1] * 2 - x[:, 1:2] + 0.1 * torch.randn(64, 1).to(device)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = Regressor().to(device)

        # 1. The extension means nothing to torch.save: all three are the same zip format.
        for suffix in (".pt", ".pth", ".h5"):
            path = folder / f"weights{suffix}"
            torch.save(model.state_dict(), path)
            assert zipfile.is_zipfile(path), f"{path.name} should be a zip archive"
            assert path.read_bytes()[:8] != b"\x89HDF\r\n\x1a\n", "not an HDF5 file"
            loaded = torch.load(path, weights_only=True, map_location=device)
            same = all(torch.equal(loaded[k], v) for k, v in model.state_dict().items())
            assert same, f"{path.name} should load back the same tensors"
        print("weights.pt, weights.pth and weights.h5 are all zip files and load the same")

        # 2. state_dict: tensors by name, filled into a freshly built model.
        torch.save(model.state_dict(), folder / "model_state.pt")
        state = torch.load(folder / "model_state.pt", weights_only=True, map_location=device)
        print("state_dict keys:", list(state))
        fresh = Regressor().to(device)
        assert not same_weights(fresh, model), "a new model starts with other weights"
        fresh.load_state_dict(state)
        assert same_weights(fresh, model), "load_state_dict should restore every tensor"
        assert torch.equal(fresh(x), model(x)), "the restored model should compute the same"

        # 3. The whole model pickled: weights_only=True refuses it.
        torch.save(model, folder / "whole_model.pt")
        try:
            torch.load(folder / "whole_model.pt", weights_only=True)
        except pickle.UnpicklingError as err:
            headline = str(err).split(".")[0]  # the full message explains the options
            print("weights_only=True on a pickled model ->", type(err).__name__ + ":", headline)
            assert type(err) is pickle.UnpicklingError, f"unexpected type {type(err)}"
        else:
            raise AssertionError("weights_only=True should refuse a whole pickled model")
        whole = torch.load(folder / "whole_model.pt", weights_only=False, map_location=device)
        assert isinstance(whole, Regressor), "a trusted file loads with weights_only=False"
        assert same_weights(whole, model), "the pickled model has the same weights"

        # ...and it only loads while the class is still where it was when saved.
        home, original = sys.modules[Regressor.__module__], Regressor
        delattr(home, "Regressor")  # as if the class had been renamed or moved
        try:
            torch.load(folder / "whole_model.pt", weights_only=False)
        except AttributeError as err:
            print("after renaming the class ->", type(err).__name__ + ":", err)
        else:
            raise AssertionError("a pickled model should not load without its class")
        finally:
            home.Regressor = original
        state = torch.load(folder / "model_state.pt", weights_only=True, map_location=device)
        fresh.load_state_dict(state)
        print("the state_dict file does not care: it holds no class, only tensors")

        # 4. A checkpoint with the optimizer state resumes training exactly.
        torch.manual_seed(1)
        straight = Regressor().to(device)
        start = {k: v.clone() for k, v in straight.state_dict().items()}
        adam = torch.optim.Adam(straight.parameters(), lr=0.05)
        train(straight, adam, x, y, steps=6)

        first = Regressor().to(device)
        first.load_state_dict(start)
        adam_first = torch.optim.Adam(first.parameters(), lr=0.05)
        train(first, adam_first, x, y, steps=3)
        checkpoint = {
            "step": 3,
            "model": first.state_dict(),
            "optimizer": adam_first.state_dict(),
            "loss": nn.functional.mse_loss(first(x), y).item(),
        }
        torch.save(checkpoint, folder / "checkpoint.pt")

        loaded = torch.load(folder / "checkpoint.pt", weights_only=True, map_location=device)
        resumed = Regressor().to(device)
        resumed.load_state_dict(loaded["model"])
        adam_resumed = torch.optim.Adam(resumed.parameters(), lr=0.05)
        adam_resumed.load_state_dict(loaded["optimizer"])
        train(resumed, adam_resumed, x, y, steps=6 - loaded["step"])

        forgetful = Regressor().to(device)
        forgetful.load_state_dict(loaded["model"])
        train(forgetful, torch.optim.Adam(forgetful.parameters(), lr=0.05), x, y, steps=3)

        gap_resumed = largest_gap(resumed, straight)
        gap_forgetful = largest_gap(forgetful, straight)
        print(f"checkpoint at step {loaded['step']} (loss {loaded['loss']:.4f}), 3 more steps:")
        print(f"  with optimizer state:    max |w - w_uninterrupted| = {gap_resumed:.2e}")
        print(f"  without optimizer state: max |w - w_uninterrupted| = {gap_forgetful:.2e}")
        assert gap_resumed <= 1e-6, "resuming from the checkpoint should match 6 straight steps"
        assert gap_forgetful > 1e-3, "a fresh Adam (no running averages) should drift"

        written = sorted(p.name for p in folder.iterdir())
        print("files written to the temporary folder:", written)
    assert not folder.exists(), "the temporary folder should be gone"


if __name__ == "__main__":
    main()
