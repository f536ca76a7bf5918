"""Model soup: ingredients read from a run's weight files, averaged tensor by tensor."""

from __future__ import annotations

import pytest
import torch

from flarewatch.models import checkpoint, soup
from flarewatch.models.checkpoint import trainable_state
from tests.models.test_training import _optimised, _Tiny


def test_ingredient_state__best_and_checkpoint_files_give_the_trainable_weights(tmp_path):
    model, optimizer, schedule = _optimised(seed=1, steps=3)
    checkpoint.save_weights(tmp_path / "best.safetensors", model, step=3)
    checkpoint.save_checkpoint(tmp_path, model, optimizer, schedule, checkpoint.RunState(step=3))
    want = trainable_state(model)
    for name in ("best.safetensors", checkpoint.TENSORS_FILE):
        got = soup.ingredient_state(tmp_path / name, _Tiny())
        assert set(got) == set(want) and all(torch.equal(got[k], want[k]) for k in want)


def test_ingredient_state__refuses_other_shapes_and_other_files(tmp_path):
    model, _, _ = _optimised(seed=1, steps=1)
    checkpoint.save_weights(tmp_path / "best.safetensors", model, step=1)
    other = _Tiny()
    other.head = torch.nn.Linear(4, 5)
    with pytest.raises(ValueError, match="another shape"):
        soup.ingredient_state(tmp_path / "best.safetensors", other)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not an artifact directory"):
        soup.ingredient_state(tmp_path / "notes.txt", _Tiny())


def test_average__uniform_mean_of_every_tensor():
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([0.0])}
    b = {"w": torch.tensor([3.0, 6.0]), "b": torch.tensor([1.0])}
    mean = soup.average([a, b])
    assert torch.equal(mean["w"], torch.tensor([2.0, 4.0])) and torch.equal(
        mean["b"], torch.tensor([0.5])
    )


def test_make_soup__needs_two_ingredients_and_a_corpus_root(tmp_path):
    with pytest.raises(ValueError, match="at least two"):
        soup.make_soup([tmp_path], tmp_path, tmp_path / "out")
    with pytest.raises(ValueError, match="not a corpus root"):
        soup.make_soup([tmp_path, tmp_path], tmp_path, tmp_path / "out")
