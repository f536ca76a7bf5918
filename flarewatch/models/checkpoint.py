"""Resumable training checkpoints as safetensors plus JSON: nothing is ever unpickled."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

TENSORS_FILE = "checkpoint.safetensors"
STATE_FILE = "checkpoint.json"
BEST_FILE = "best.safetensors"


@dataclass
class RunState:
    """Where a run stands: steps done, seconds spent, and the best dev score and its step."""

    step: int = 0
    seconds: float = 0.0
    best_score: float = -1.0
    best_step: int = 0
    history: list[list[float]] = field(default_factory=list)


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The LoRA and head weights: all that training changes."""
    return {
        k: v.detach().contiguous()
        for k, v in model.state_dict().items()
        if "lora_" in k or k.startswith("head")
    }


def save_weights(path: Path, model: nn.Module, step: int) -> None:
    """Write the trainable weights atomically (e.g. the best so far)."""
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    save_file(trainable_state(model), str(tmp), metadata={"step": str(step)})
    tmp.replace(path)


def load_weights(path: Path, model: nn.Module) -> None:
    """Load weights written by `save_weights` into a model of the same shape."""
    from safetensors.torch import load_file

    missing = set(load_file(str(path))) - set(model.state_dict())
    if missing:
        raise ValueError(f"{path}: weights the model does not have: {sorted(missing)[:3]}")
    model.load_state_dict(load_file(str(path)), strict=False)


def save_checkpoint(
    out: Path, model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Any, state: RunState
) -> None:
    """Write weights, optimiser moments and RNG as safetensors, the rest as JSON, atomically.

    The JSON is written last and names the step, so a run killed between the two files
    resumes from a consistent pair or starts over, never from a mix.
    """
    from safetensors.torch import save_file

    optim = optimizer.state_dict()
    tensors = {f"model.{k}": v for k, v in trainable_state(model).items()}
    scalars: dict[str, dict[str, float]] = {}
    for index, slots in optim["state"].items():
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{key}"] = value.detach().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = float(value)
    tensors["rng.torch"] = torch.get_rng_state()
    tmp = out / (TENSORS_FILE + ".tmp")
    save_file(tensors, str(tmp), metadata={"step": str(state.step)})
    tmp.replace(out / TENSORS_FILE)
    meta = {
        "state": asdict(state),
        "param_groups": optim["param_groups"],
        "optim_scalars": scalars,
        "schedule": {k: v for k, v in schedule.state_dict().items() if k != "lr_lambdas"},
    }
    (out / (STATE_FILE + ".tmp")).write_text(json.dumps(meta))
    (out / (STATE_FILE + ".tmp")).replace(out / STATE_FILE)


def load_checkpoint(
    out: Path, model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Any
) -> RunState | None:
    """Restore a checkpoint pair written by `save_checkpoint`; None when there is none.

    Only `checkpoint.safetensors` and `checkpoint.json` are read; any other file there
    (an old pickled `checkpoint.pt`) is ignored.

    Raises:
        ValueError: The two files disagree on the step.
    """
    from safetensors import safe_open

    tensor_path, state_path = out / TENSORS_FILE, out / STATE_FILE
    if not (tensor_path.is_file() and state_path.is_file()):
        return None
    meta = json.loads(state_path.read_text())
    with safe_open(str(tensor_path), framework="pt") as handle:
        if handle.metadata().get("step") != str(meta["state"]["step"]):
            raise ValueError(f"{tensor_path} and {state_path} are from different steps")
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    model.load_state_dict(
        {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, strict=False
    )
    optimizer.load_state_dict(_optimizer_state(tensors, meta))
    schedule.load_state_dict({**meta["schedule"], "lr_lambdas": [None] * len(schedule.lr_lambdas)})
    torch.set_rng_state(tensors["rng.torch"])
    return RunState(**meta["state"])


def _optimizer_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, slot = key.split(".", 2)
            state.setdefault(int(index), {})[slot] = value
    for index, slots in meta["optim_scalars"].items():
        state.setdefault(int(index), {}).update(slots)
    return {"state": state, "param_groups": meta["param_groups"]}
