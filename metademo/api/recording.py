"""Everything a page draws of an adaptation, computed here: :meth:`metademo.MetaClassifier.record` (one call)
or :meth:`~metademo.MetaClassifier.recording` (the same, step by step as it is computed); and every algorithm
on one episode, :func:`compare_algorithms`.

An :class:`AdaptationRecord` holds, at the recorded inner steps, the queries' class probabilities, a 2-D map
of everyone's embeddings and the queries' accuracy where their answers are known, and a
:class:`Divergence` when the learning rate was too large.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import FittedClassifier, MetaClassifier, Preprocessed, algorithm_info, available_algorithms, prepare
from .checks import check_steps

__all__ = ["AdaptationRecord", "Comparison", "Divergence", "Recording", "compare_algorithms", "pca_basis"]

MAX_RECORDS = 40  # recorded steps per adaptation: more steps are recorded every few
EXPLODED = 100  # a support loss this many times its start (or 0.1, if larger) means the learning rate is too large


@dataclass(frozen=True)
class Divergence:
    """Why an adaptation's learning rate was too large, and what was used instead."""

    kind: str  # "diverged": the loss or a parameter stopped being finite; "exploded": the loss grew EXPLODED-fold
    step: int  # where: the first non-finite step, or the first step past EXPLODED times the start
    used_step: int  # the step the predictions use: the last finite one
    start_loss: float  # the support loss at step 0
    peak_loss: float  # the largest finite support loss


def diagnose(fitted: FittedClassifier) -> Divergence | None:
    """The :class:`Divergence` of the adaptation that ended with ``fitted`` (from :meth:`fit_steps`), or None."""
    history = fitted.history
    if not history:
        return None
    finite = [h["loss"] for h in history if math.isfinite(h["loss"])]
    start, peak = history[0]["loss"], max(finite, default=math.nan)
    if fitted.diverged:
        return Divergence("diverged", history[-1]["step"], fitted.step, start, peak)
    bound = EXPLODED * max(start, 0.1)
    past = [h["step"] for h in history if h["loss"] > bound]
    return Divergence("exploded", past[0], fitted.step, start, peak) if past else None


def pca_basis(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, axes)`` of the two principal axes of (n, d) points; project with ``(p - mean) @ axes.T``.

    Signs are fixed (the largest loading of each axis is positive), so the picture does not flip when the
    points do.
    """
    x = np.asarray(points, dtype=np.float64)
    mean = x.mean(0, keepdims=True)
    x = x - mean
    if x.shape[0] < 2:
        return mean, np.zeros((2, x.shape[1]))
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    axes = vt[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(1)])
    axes = axes * np.where(signs == 0, 1, signs)[:, None]
    if len(axes) < 2:
        axes = np.pad(axes, ((0, 2 - len(axes)), (0, 0)))
    return mean, axes


def top_class(probabilities) -> int | None:
    """The class strictly more probable than every other, or None for a tie (as at step 0 from a zero head)."""
    p = np.asarray(probabilities, dtype=float)
    best = int(p.argmax())
    return None if np.count_nonzero(p == p[best]) > 1 else best


def _correct(probabilities: np.ndarray, answers: Sequence[int | None]) -> list[bool | None]:
    """Per query: right (its answer is the :func:`top_class`: a tie is wrong), or None where the answer is
    unknown."""
    return [None if a is None else top_class(p) == a for p, a in zip(probabilities, answers)]


@dataclass(frozen=True, eq=False)
class AdaptationRecord:
    """One adaptation as a page shows it. ``R`` steps are recorded (``recorded_steps``: at most
    :data:`MAX_RECORDS`, always the first and the last), ``S`` support images, ``Q`` queries, ``N`` classes."""

    algorithm: str
    classes: list  # the labels, in the column order of every array below
    steps: int  # inner steps asked for (0 without an inner loop)
    lr: float | None  # inner learning rate (None without an inner loop)
    fitted: FittedClassifier  # after the last finite step
    seconds: float  # time spent adapting (recording not included)
    recorded_steps: list[int]
    support_labels: np.ndarray  # (S,) column of each support image's class
    support_map: np.ndarray  # (R, S, 2) the 2-D map: axes fitted once over every recorded step's points
    centre_map: np.ndarray  # (R, N, 2) each class's mean support point on the map
    query_images: np.ndarray | None  # (Q, 28, 28) the queries as the model sees them (ink = 1)
    query_map: np.ndarray | None  # (R, Q, 2)
    probabilities: np.ndarray | None  # (R, Q, N)
    answers: list  # per query: the column of its right answer, or None where it is unknown
    query_accuracy: list[tuple[int, float]]  # (step, accuracy of the queries with answers): a tie counts wrong
    pair_scores: np.ndarray | None  # (Q, N) at the last recorded step, for learners that score pairs
    divergence: Divergence | None

    @property
    def history(self) -> list[dict]:
        """Support loss and accuracy after each inner step (as :attr:`FittedClassifier.history`)."""
        return self.fitted.history

    def index(self, step) -> int:
        """The index of the recorded step nearest ``step`` at or below it (the last one for None)."""
        if step is None:
            return len(self.recorded_steps) - 1
        below = [i for i, s in enumerate(self.recorded_steps) if s <= step]
        return below[-1] if below else 0

    def correct(self, k: int) -> list[bool | None]:
        """Per query at recorded step ``k``: right, wrong (a tie is wrong) or None where the answer is unknown."""
        return [] if self.probabilities is None else _correct(self.probabilities[k], self.answers)


class Recording:
    """An adaptation being recorded. Iterating gives the :class:`FittedClassifier` at each recorded step as it
    is computed (for live curves); :meth:`result` finishes the adaptation and gives the
    :class:`AdaptationRecord`. See :meth:`metademo.MetaClassifier.recording`."""

    def __init__(self, model: MetaClassifier, images, labels, queries=None, answers=None, steps=None, lr=None,
                 max_records: int = MAX_RECORDS):
        self.model = model
        self.support = images if isinstance(images, Preprocessed) else prepare(images)
        self.labels = list(labels)
        self.query = None if queries is None or not len(queries) else (
            queries if isinstance(queries, Preprocessed) else prepare(queries))
        n_queries = 0 if self.query is None else len(self.query)
        self.answers = [None] * n_queries if answers is None else list(answers)
        if len(self.answers) != n_queries:
            raise ValueError(f"got {n_queries} queries but {len(self.answers)} answers; give one per query "
                             "(None where it is unknown)")
        self.steps, lr = model.settings(steps, lr)
        self.lr = lr if model.info.adapts_by_steps else None
        self.every = max(1, math.ceil(self.steps / max(1, int(max_records))))
        self.seconds, self.last = 0.0, None
        self._steps, self._maps, self._probs, self._pairs = [], [], [], None
        self._iterator = self._run()

    def __iter__(self) -> Iterator[FittedClassifier]:
        return self._iterator

    def _run(self) -> Iterator[FittedClassifier]:
        tick = time.perf_counter()
        for fitted in self.model.fit_steps(self.support, self.labels, self.steps, self.lr):
            self.seconds += time.perf_counter() - tick
            self.last = fitted
            if fitted.step % self.every == 0 or fitted.step == self.steps or fitted.diverged:
                self._add(fitted)
                yield fitted
            tick = time.perf_counter()

    def _add(self, fitted: FittedClassifier) -> None:
        both = self.support if self.query is None else self.support + self.query
        self._steps.append(fitted.step)
        self._maps.append(fitted.embed(both))
        if self.query is not None:
            self._probs.append(fitted.predict_proba(self.query))
            if self.model.info.pair_score_label:
                self._pairs = fitted.pair_scores(self.query)

    def result(self) -> AdaptationRecord:
        """The record, once every step is computed (the remaining ones are computed now)."""
        for _ in self._iterator:
            pass
        fitted, s = self.last, len(self.support)
        column = {c: i for i, c in enumerate(fitted.classes_)}
        answers = []
        for a in self.answers:
            if a is not None and a not in column:
                raise ValueError(f"the answer {a!r} is not one of the classes {fitted.classes_!r}")
            answers.append(None if a is None else column[a])
        mean, axes = pca_basis(np.concatenate(self._maps))  # one map for every step: the points move, not the axes
        maps = np.stack([(e - mean) @ axes.T for e in self._maps])
        y = np.array([column[lab] for lab in self.labels])
        centres = np.stack([[m[:s][y == c].mean(0) for c in range(len(column))] for m in maps])
        probs = np.stack(self._probs) if self._probs else None
        accuracy = []
        if probs is not None and any(a is not None for a in answers):
            for step, p in zip(self._steps, probs):
                known = [c for c in _correct(p, answers) if c is not None]
                accuracy.append((step, float(np.mean(known))))
        return AdaptationRecord(
            algorithm=self.model.algorithm, classes=list(fitted.classes_), steps=self.steps, lr=self.lr,
            fitted=fitted, seconds=self.seconds, recorded_steps=list(self._steps), support_labels=y,
            support_map=maps[:, :s], centre_map=centres,
            query_images=None if self.query is None else self.query.tensor[:, 0].cpu().numpy(),
            query_map=None if self.query is None else maps[:, s:], probabilities=probs, answers=answers,
            query_accuracy=accuracy, pair_scores=self._pairs, divergence=diagnose(fitted))


@dataclass(frozen=True)
class Comparison:
    """One algorithm on one episode (see :func:`compare_algorithms`)."""

    name: str
    title: str
    colour: str
    accuracy: list[float]  # query accuracy after 0, 1, ..., steps inner steps (one value without an inner loop)
    default_step: int | None  # its default inner steps, at most the steps taken (None without an inner loop)
    seconds: float  # adapting, then classifying the queries once
    skipped: str | None = None  # why it did not run (no weights), with an empty accuracy


def compare_algorithms(images, labels, queries, answers, steps: int, algorithms: Sequence[str] | None = None,
                       load=None) -> Iterator[Comparison]:
    """Every algorithm (or ``algorithms``) adapts to the same support set for ``steps`` inner steps (each with its
    default learning rate; learners without an inner loop take none), and classifies the same queries, whose
    ``answers`` (labels) are known. Yields a :class:`Comparison` as each one finishes.

    The images are preprocessed once for all. Accuracy counts a query right when its answer is the most
    probable class (``argmax``, as the accuracy tables are measured). ``load(name)`` gives each model
    (default :func:`metademo.load_pretrained`); one whose weights are missing is yielded as ``skipped``.
    """
    from . import load_pretrained

    steps = check_steps(steps)
    support = images if isinstance(images, Preprocessed) else prepare(images)
    query = queries if isinstance(queries, Preprocessed) else prepare(queries)
    answers = list(answers)
    if len(answers) != len(query):
        raise ValueError(f"got {len(query)} queries but {len(answers)} answers; give one per query")
    load = load or load_pretrained
    for name in algorithms or available_algorithms():
        info = algorithm_info(name)
        try:
            clf = load(name)
        except FileNotFoundError as e:
            yield Comparison(name, info.title, info.colour, [], None, 0.0, skipped=str(e))
            continue
        qx = query.tensor.to(clf.device)
        accuracy, spent, truth = [], 0.0, None
        tick = time.perf_counter()
        for fitted in clf.fit_steps(support, labels, steps=steps):
            spent += time.perf_counter() - tick
            if truth is None:
                column = {c: i for i, c in enumerate(fitted.classes_)}
                unknown = [a for a in answers if a not in column]
                if unknown:
                    raise ValueError(f"the answer {unknown[0]!r} is not one of the classes {fitted.classes_!r}")
                truth = np.array([column[a] for a in answers])
            accuracy.append(float((fitted.proba_of_tensor(qx).argmax(1) == truth).mean()))
            tick = time.perf_counter()
        tick = time.perf_counter()
        fitted.proba_of_tensor(qx)  # the time to classify the queries once, as a user would
        spent += time.perf_counter() - tick
        default = min(clf.default_steps, len(accuracy) - 1) if clf.info.adapts_by_steps else None
        yield Comparison(name, info.title, info.colour, accuracy, default, spent)
