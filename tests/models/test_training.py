"""Training parts: safetensors checkpoints, the mixed loss, corpora slices and the calibration."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from flarewatch.models import checkpoint, train
from flarewatch.models.calibrate import Scored, calibrate, fit_bias, neutral_to_negative, objective
from flarewatch.models.corpora import (
    COMPLAINT,
    COMPLAINTS,
    NOT_COMPLAINT,
    Corpus,
    bucket,
    domain_shares,
    held_out,
    training_mix,
)


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lora_A = nn.Linear(4, 4, bias=False)
        self.head = nn.Linear(4, 3)
        self.frozen = nn.Linear(4, 4)
        self.frozen.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lora_A(self.frozen(x)))


def _optimised(seed: int, steps: int):
    torch.manual_seed(seed)
    model = _Tiny()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=0.1)
    schedule = train.make_schedule(optimizer, 10, 0.2)
    for _ in range(steps):
        model(torch.randn(2, 4)).sum().backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    return model, optimizer, schedule


class _Planted:
    """Unpickling this creates a file: proof that a pickle was executed."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_checkpoint__round_trip_restores_weights_optimizer_schedule_rng(tmp_path):
    model, optimizer, schedule = _optimised(0, 3)
    checkpoint.save_checkpoint(tmp_path, model, optimizer, schedule, checkpoint.RunState(3, 1.5))
    rng_after_save = torch.rand(3)
    fresh, fresh_opt, fresh_schedule = _optimised(1, 0)
    state = checkpoint.load_checkpoint(tmp_path, fresh, fresh_opt, fresh_schedule)
    assert state is not None and (state.step, state.seconds) == (3, 1.5)
    assert torch.equal(fresh.head.weight, model.head.weight)
    assert not torch.equal(fresh.frozen.weight, model.frozen.weight)  # not saved: not trained
    moments = optimizer.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(fresh_opt.state_dict()["state"][0]["exp_avg"], moments)
    assert fresh_schedule.last_epoch == schedule.last_epoch == 3
    assert fresh_schedule.get_last_lr() == schedule.get_last_lr()
    assert torch.equal(torch.rand(3), rng_after_save)


def test_checkpoint__planted_pickle_is_never_loaded(tmp_path):
    sentinel = tmp_path / "pwned"
    (tmp_path / "checkpoint.pt").write_bytes(pickle.dumps(_Planted(str(sentinel))))
    model, optimizer, schedule = _optimised(0, 0)
    assert checkpoint.load_checkpoint(tmp_path, model, optimizer, schedule) is None
    assert not sentinel.exists()
    pickle.loads((tmp_path / "checkpoint.pt").read_bytes())  # the plant is live...
    assert sentinel.exists()  # ...so the first check could have failed


def test_checkpoint__mismatched_pair_is_refused(tmp_path):
    model, optimizer, schedule = _optimised(0, 2)
    checkpoint.save_checkpoint(tmp_path, model, optimizer, schedule, checkpoint.RunState(2))
    meta = (tmp_path / checkpoint.STATE_FILE).read_text().replace('"step": 2', '"step": 7')
    (tmp_path / checkpoint.STATE_FILE).write_text(meta)
    with pytest.raises(ValueError, match="different steps"):
        checkpoint.load_checkpoint(tmp_path, *_optimised(0, 0))


def test_training_code__never_unpickles():
    for module in (train, checkpoint):
        assert "torch.load" not in inspect.getsource(module)


def test_mixed_loss__sentiment_complaint_and_not_complaint():
    logits = torch.tensor([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    logp = torch.log_softmax(logits, -1)
    ones = torch.ones(3)
    neutral = train.mixed_loss(logits[:1], torch.tensor([1]), ones)
    complaint = train.mixed_loss(logits[:1], torch.tensor([COMPLAINT]), ones)
    other = train.mixed_loss(logits[:1], torch.tensor([NOT_COMPLAINT]), ones)
    assert neutral == pytest.approx(float(-logp[0, 1]))
    assert complaint == pytest.approx(float(-logp[0, 0]))
    assert other == pytest.approx(float(-torch.log(1 - logp[0, 0].exp())))
    both = train.mixed_loss(logits[:2], torch.tensor([1, COMPLAINT]), ones)
    assert both == pytest.approx((neutral + complaint) / 2)


def test_class_weights__power_between_none_and_balanced():
    labels = [0] * 10 + [1] * 40 + [2] * 50 + [COMPLAINT] * 5
    flat, half, full = (train.class_weights(labels, p) for p in (0.0, 0.5, 1.0))
    assert torch.allclose(flat, torch.ones(3))
    assert full[0] > half[0] > 1.0 > half[2] > full[2]
    counts = torch.tensor([10.0, 40.0, 50.0])
    assert float((half * counts).sum()) == pytest.approx(100.0)


def test_held_out__slices_disjoint_and_near_duplicates_together():
    texts = [f"post number {i} about the outage" for i in range(300)]
    texts += ["RT @a: The app is DOWN! https://t.co/x", "the app is down https://t.co/y"]
    labels = list(range(len(texts)))
    slices = {s: set(held_out(texts, labels, s)[1]) for s in ("train", "dev", "test")}
    assert set.union(*slices.values()) == set(labels)
    assert not (slices["train"] & slices["dev"]) and not (slices["dev"] & slices["test"])
    assert bucket(texts[-1]) == bucket(texts[-2])
    assert 0.45 < len(slices["train"]) / len(texts) < 0.75


def test_training_mix__domain_balanced_and_seeded():
    big = Corpus("big", "train", [f"b{i}" for i in range(10_000)], [1] * 10_000)
    small = Corpus("small", "train", [f"s{i}" for i in range(100)], [0] * 100)
    rows = training_mix([big, small], 1000, seed=3, power=0.5)
    share = domain_shares({"big": 10_000, "small": 100}, 0.5)
    assert share["small"] == pytest.approx(10 / 110)
    assert sum(r[2] == "small" for r in rows) == 91  # about 9% instead of 1%
    assert rows == training_mix([big, small], 1000, seed=3, power=0.5)
    capped = training_mix([big, small], 10_000, seed=3, power=0.0, max_repeat=2.0)
    assert sum(r[2] == "small" for r in capped) == 200


def _scored(domain, labels, logits, kind="sentiment"):
    return Scored(Corpus(domain, "dev", ["x"] * len(labels), labels, kind), np.array(logits))


def test_fit_bias__moves_neutral_away_from_negative():
    # the network leans negative: neutral texts get a small negative edge
    labels = [0] * 20 + [1] * 60 + [2] * 20
    logits = [[2.0, 0.0, 0.0]] * 20 + [[0.6, 0.3, 0.0]] * 60 + [[0.0, 0.0, 2.0]] * 20
    dev = [_scored("a", labels, logits)]
    bias, score = fit_bias(dev)
    assert objective(dev, np.zeros(3)) == pytest.approx(2 / 3)
    assert score == pytest.approx(1.0)
    assert bias[0] < -0.3 and bias[1] == 0.0


def test_calibrate__complaints_count_as_a_domain():
    complaints = _scored(
        "complaints",
        [COMPLAINT] * 10 + [NOT_COMPLAINT] * 10,
        [[1.0, 0.0, 0.0]] * 10 + [[0.5, 0.2, 0.0]] * 10,
        COMPLAINTS,
    )
    sentiment = _scored("a", [0, 1, 2], [[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]])
    result = calibrate([sentiment, complaints])
    report = result["domains"]["complaints"]
    assert report["complaint_negative"] == 1.0 and report["not_complaint_negative"] == 0.0
    assert result["objective"]["tuned"] == 1.0 > result["objective"]["argmax"]
    assert result["temperature"] > 0


def test_fit_bias__keeps_the_neutral_to_negative_cap():
    # best macro recall alone decides half the neutral texts negative; the cap forbids it
    labels = [0] * 20 + [1] * 40 + [2] * 20
    logits = (
        [[1.0, 0.0, 0.0]] * 5  # clear negatives
        + [[0.4, 0.5, 0.0]] * 15  # negatives that read almost neutral
        + [[0.45, 0.5, 0.0]] * 20  # neutrals that read almost negative
        + [[0.0, 0.5, 0.0]] * 20
        + [[0.0, 0.0, 2.0]] * 20
    )
    dev = [_scored("a", labels, logits)]
    free, free_score = fit_bias(dev)
    capped, capped_score = fit_bias(dev, max_neutral_to_negative=0.2)
    assert neutral_to_negative(dev, free) == pytest.approx(0.5)
    assert neutral_to_negative(dev, capped) <= 0.2
    assert capped_score < free_score
    assert neutral_to_negative(dev, fit_bias(dev, max_neutral_to_negative=0.0)[0]) == 0.0


def test_calibrate__records_the_cap_and_falls_back_when_no_bias_keeps_it():
    # a neutral text the network reads as negative by more than the bias grid can offset
    dev = [_scored("a", [0, 1, 2], [[1.0, 0.0, 0.0], [9.0, 0.0, 0.0], [0.0, 0.0, 1.0]])]
    kept = calibrate(dev, max_neutral_to_negative=1.0)
    missed = calibrate(dev, max_neutral_to_negative=0.0)
    assert kept["cap_kept"] and kept["max_neutral_to_negative"] == 1.0
    assert not missed["cap_kept"]
    assert missed["logit_bias"] == calibrate(dev, max_neutral_to_negative=None)["logit_bias"]
