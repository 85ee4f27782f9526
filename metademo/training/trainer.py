"""Meta-training: the one outer loop of the project, for the command line, the page's live run and the sine tab.

The loop is plain: sample a meta-batch of tasks, ask the learner for its meta-gradient, take a step of the
learner's own optimiser at the learner's own learning-rate schedule. Every ``val_every`` iterations the
meta-parameters are scored on fixed validation tasks and :meth:`Trainer.iterate` yields a report (the live
curves of the page are drawn from these). With an ``out`` file, the best so far is written there and the
training state (meta-parameters, optimiser moments, sampler state, elapsed time, log) goes to ``out`` +
``.state.safetensors`` at the same moments, so ``--resume`` continues where an interrupted run left off.

What it trains on is a task source (:mod:`metademo.training.tasks`): Omniglot's episodes by default.
Every model starts from its own seeded random initialisation. At the end of every sitting, the best
checkpoint of a learner with an inner loop gets its default number of inner steps chosen on the
validation tasks (``STEP_CHOICES``), and, for one meta-trained with the head's step scaled by the number of
classes, whether it adapts with that step or with the plain one.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..algorithms import HParams, MetaLearner, get_algorithm
from ..checkpoints import Checkpoint, load_checkpoint, save_checkpoint, write_safetensors
from .parallel import parallel_meta_gradient
from .tasks import VAL_SEED, ImageTasks  # noqa: F401 - VAL_SEED: the validation episodes' seed

LOG_SKIPS = ("score", "ci95", "episodes", "precision")  # validation entries not worth a column of the log
STEP_CHOICES = (3, 5, 10)  # default inner steps considered at the end of training
MULTI_STEP_FLOOR = 0.03  # MAML++'s floor for the weights of the steps before the last (0.03 / steps)
STEP_MARGIN = 0.001  # more default steps only for more than 0.1 point of validation accuracy


@dataclass
class TrainConfig:
    algorithm: str
    out: str | None  # the best model's file (None: keep nothing, as the page's live run)
    ways: int = 5
    shots: int = 1
    queries: int = 15
    meta_batch: int = 16
    iterations: int = 2000
    meta_lr: float = 1e-3
    lr_schedule: str = "constant"  # or "cosine": meta_lr annealed to 0 along a half cosine (Adam)
    inner_lr: float | None = None
    train_steps: int | None = None
    test_steps: int | None = None
    seed: int = 0
    val_every: int = 100
    val_episodes: int = 200
    first_order_iterations: int = 0  # MAML, Meta-SGD, Proto-MAML: first-order meta-gradients for this many
    # Ranges: each outer step draws its number of classes from ways..ways_max, of shots from shots..shots_max
    # and of inner steps from train_steps..train_steps_max (all tasks of one meta-batch alike); None: fixed.
    ways_max: int | None = None
    shots_max: int | None = None
    train_steps_max: int | None = None
    multi_step_loss: bool = False  # MAML family: the outer loss is the mean query loss after every inner step
    # MAML++'s annealing of the multi-step loss: over this many iterations the weight of every step before the last
    # falls linearly from 1/steps to MULTI_STEP_FLOOR/steps, the last step taking the rest (0: the plain mean).
    multi_step_anneal: int = 0
    fixed_steps_iterations: int = 0  # a warm-up: inner steps stay at train_steps this long before the range applies
    head_lr_per_class: bool | None = None  # the task head steps by inner_lr * n_way (HParams.head_lr_per_class)
    per_step_lrs: int | None = None  # MAML family: learned per-layer, per-step learning rates (HParams.per_step_lrs)
    train_batch_shots: int | None = None  # Reptile: minibatches of so many images per class (HParams.train_batch_shots)
    rates_lr_scale: float = 1.0  # Meta-SGD: its per-weight learning rates step at this fraction of meta_lr
    val_ways: tuple[int, ...] = (5,)  # validation tasks (1-shot) of these widths; the score is their mean
    data_root: str | None = None
    pause_file: str | None = None  # while this file exists, training waits between iterations (not timed)
    max_minutes: float | None = None  # stop this sitting after so many minutes of training (resume later)
    recipe: str = ""  # the command that started the run
    extra: dict = field(default_factory=dict)

    def hparams(self) -> HParams:
        base = get_algorithm(self.algorithm).default_hparams
        kw = {k: v for k, v in (("inner_lr", self.inner_lr), ("train_steps", self.train_steps),
                                ("test_steps", self.test_steps), ("head_lr_per_class", self.head_lr_per_class),
                                ("per_step_lrs", self.per_step_lrs), ("train_batch_shots", self.train_batch_shots))
              if v is not None}
        return base.replace(**kw)


def _state_path(out: str | Path) -> Path:
    return Path(str(out) + ".state.safetensors")


class Trainer:
    """The outer loop of ``config.algorithm`` (or of ``learner``) on ``tasks`` (default: Omniglot's episodes)."""

    def __init__(self, config: TrainConfig, device: str | torch.device = "cpu", progress: bool = True,
                 tasks=None, learner: MetaLearner | None = None):
        self.cfg, self.device, self.progress = config, torch.device(device), progress
        self.learner = learner or get_algorithm(config.algorithm)(config.hparams())
        self.tasks = tasks or ImageTasks.omniglot(config, progress)
        self.meta = self._initial_meta()
        self.opt = self._optimizer()
        self.iteration, self.elapsed, self.best, self.log = 0, 0.0, -math.inf, []
        self.machines = [hardware(self.device)]  # every machine the run has trained on
        self.on_step = None  # called with the trainer after every outer step (e.g. a progress bar's update)

    @property
    def sampler(self):
        """The task source (it holds the random generator saved with the state)."""
        return self.tasks

    def _optimizer(self) -> torch.optim.Optimizer:
        """The learner's outer optimiser over the meta-parameters; with ``rates_lr_scale`` other than 1, the
        learned per-weight rates form a second parameter group that steps at that fraction of the learning rate
        (each group's ``lr_scale``). :attr:`opt_names` lists the meta-parameters in the optimiser's order, the
        order of its state's indices."""
        scale = self.cfg.rates_lr_scale
        if not (isinstance(scale, (int, float)) and 0 < scale <= 1):
            raise ValueError(f"rates_lr_scale must be above 0 and at most 1, got {scale!r}")
        rates = set(self.learner.learned_rates(self.meta)) if scale != 1 else set()
        if scale != 1 and not rates:
            raise ValueError(f"{self.learner.title} learns no per-weight rates to slow (rates_lr_scale must be 1)")
        groups = [[k for k in self.meta if k not in rates], [k for k in self.meta if k in rates]]
        self.opt_names = [k for g in groups for k in g]
        opt = self.learner.outer_optimizer([self.meta[k] for k in groups[0]], self.cfg.meta_lr)
        opt.param_groups[0]["lr_scale"] = 1.0
        if groups[1]:
            opt.add_param_group({"params": [self.meta[k] for k in groups[1]], "lr_scale": scale})
        return opt

    def _initial_meta(self) -> dict[str, torch.Tensor]:
        meta = self.learner.init_meta_params(self.cfg.seed)
        return {k: v.to(self.device).requires_grad_() for k, v in meta.items()}

    # --- resumable state -------------------------------------------------------------------------
    def save_state(self) -> None:
        tensors = {f"meta.{k}": v.detach().cpu() for k, v in self.meta.items()}
        opt = self.opt.state_dict()
        for i, st in opt["state"].items():
            for name, v in st.items():
                tensors[f"opt.{i}.{name}"] = torch.as_tensor(v).detach().cpu().reshape(-1)
        info = {"iteration": self.iteration, "elapsed": self.elapsed, "best": self.best, "log": self.log,
                "machines": self.machines, "rng": self.tasks.rng.bit_generator.state, "config": asdict(self.cfg)}
        write_safetensors(_state_path(self.cfg.out), tensors, {"state": json.dumps(info)})

    def load_state(self) -> bool:
        from safetensors import safe_open

        path = _state_path(self.cfg.out)
        if not path.exists():
            return False
        with safe_open(str(path), framework="pt") as f:
            info = json.loads(f.metadata()["state"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        with torch.no_grad():
            for k, v in self.meta.items():
                v.copy_(tensors[f"meta.{k}"])
        opt = self.opt.state_dict()
        for key, v in tensors.items():
            if key.startswith("opt."):
                _, i, name = key.split(".", 2)
                p = self.meta[self.opt_names[int(i)]]
                opt["state"].setdefault(int(i), {})[name] = v.reshape(p.shape) if v.numel() == p.numel() else v[0]
        self.opt.load_state_dict(opt)
        self.iteration, self.elapsed = info["iteration"], info["elapsed"]
        self.best, self.log = info["best"], info["log"]
        self.machines = info.get("machines", [])  # none in states written before machines were kept
        if (here := hardware(self.device)) not in self.machines:
            self.machines.append(here)
        self.tasks.rng.bit_generator.state = info["rng"]
        return True

    # --- the loop --------------------------------------------------------------------------------
    def sample_task_shape(self) -> tuple[int, int, dict]:
        """This outer step's number of classes and shots, and the arguments of its meta-gradient. Draws from
        the task source's generator (saved with the training state) only for the ranges the run asks for."""
        cfg, rng = self.cfg, self.tasks.rng

        def draw(low, high):
            return int(rng.integers(low, high + 1)) if high is not None and high > low else low

        ways, shots = draw(cfg.ways, cfg.ways_max), draw(cfg.shots, cfg.shots_max)
        kw = {}
        # The first-order warm-up of MAML and its second-order relatives (a trick of MAML++).
        if self.iteration < cfg.first_order_iterations:
            kw["first_order"] = True
        if cfg.train_steps_max is not None and self.iteration >= cfg.fixed_steps_iterations:
            kw["steps"] = draw(self.learner.hparams.train_steps, cfg.train_steps_max)
        if cfg.multi_step_loss:
            kw["multi_step"] = True
            if cfg.multi_step_anneal:
                kw["earlier_share"] = self.earlier_share(self.iteration)
        return ways, shots, kw

    def earlier_share(self, it: int) -> float:
        """The multi-step loss's weight of each step before the last, relative to the plain mean, at iteration
        ``it`` (1 at the start, ``MULTI_STEP_FLOOR`` from ``multi_step_anneal`` on)."""
        done = min(it / self.cfg.multi_step_anneal, 1.0)
        return 1.0 - (1.0 - MULTI_STEP_FLOOR) * done

    def meta_gradient(self, episode, **kw):
        # On the CPU the tasks of a meta-batch are shared out to one worker per torch thread.
        return parallel_meta_gradient(self.learner, self.meta, episode, **kw)

    def validate(self, meta: dict | None = None, steps: int | None = None, hparams: HParams | None = None) -> dict:
        """The task source's score of ``meta`` (default: the current meta-parameters) on its validation tasks,
        adapting with ``hparams`` (default: the learner's)."""
        learner = self.learner if hparams is None else type(self.learner)(hparams, network=self.learner.network)
        return self.tasks.validate(learner, meta or self.meta, self.device, steps=steps)

    def _wait_while_paused(self) -> None:
        while self.cfg.pause_file and os.path.exists(self.cfg.pause_file):
            time.sleep(0.5)

    def _lr_at(self, it: int) -> float:
        return self.learner.outer_lr(self.cfg.meta_lr, it, self.cfg.iterations, self.cfg.lr_schedule)

    def step(self) -> dict:
        """One outer step: a meta-batch, its meta-gradient, the optimiser's step. Returns the training metrics."""
        for g in self.opt.param_groups:
            g["lr"] = self._lr_at(self.iteration) * g["lr_scale"]
        ways, shots, kw = self.sample_task_shape()
        episode = self.tasks.sample(self.cfg.meta_batch, n_way=ways, k_shot=shots).to(self.device)
        grads, metrics = self.meta_gradient(episode, **kw)
        for k, p in self.meta.items():
            p.grad = grads[k]
        self.opt.step()
        self.iteration += 1
        return metrics

    def iterate(self) -> Iterator[dict]:
        """Train to ``config.iterations`` (or until this sitting's ``max_minutes`` are spent), yielding the
        report of each validation (the entry added to :attr:`log`); the last one ends the sitting."""
        cfg = self.cfg
        recent: list[dict] = []
        sitting = self.elapsed
        while self.iteration < cfg.iterations:
            if cfg.max_minutes is not None and self.elapsed - sitting >= 60 * cfg.max_minutes:
                if recent:  # validate what was trained since the last validation, so nothing is lost
                    yield self._validate_and_save(recent)
                return
            self._wait_while_paused()
            start = time.perf_counter()
            recent.append(self.step())
            self.elapsed += time.perf_counter() - start
            if self.on_step:
                self.on_step(self)
            if self.iteration % cfg.val_every == 0 or self.iteration == cfg.iterations:
                yield self._validate_and_save(recent)
                recent = []

    def run(self) -> dict:
        """:meth:`iterate` to the end with a progress bar; then the default inner steps are chosen."""
        from tqdm.auto import tqdm

        cfg = self.cfg
        bar = tqdm(total=cfg.iterations, initial=self.iteration, desc=f"meta-training {cfg.algorithm}",
                   disable=not self.progress, unit="it")
        self.on_step = lambda trainer: bar.update(1)
        for report in self.iterate():
            bar.set_postfix(val=f"{report['val']['score']:.4f}", best=f"{self.best:.4f}")
        bar.close()
        result = {"best_val_accuracy": self.best, "iterations": self.iteration, "seconds": self.elapsed}
        if self.learner.default_steps and cfg.out and Path(cfg.out).exists():  # also when a sitting ends early
            result["test_steps"] = self.choose_test_steps()
        return result

    def _validate_and_save(self, recent: list[dict]) -> dict:
        """Validate, log, keep the model if it is the best so far, and write the resumable state. Returns the
        log entry, with the whole validation result under ``"val"``."""
        start = time.perf_counter()
        val = self.validate()
        train = {f"train_{k}": float(np.mean([m[k] for m in recent])) for k in recent[0]}
        entry = {"iteration": self.iteration, "seconds": round(self.elapsed, 1), **train,
                 **{f"val_{k}": v for k, v in val.items() if k not in LOG_SKIPS}}
        self.log.append(entry)
        if val["score"] > self.best:
            self.best = val["score"]
            if self.cfg.out:
                self.save_checkpoint(val)
        self.elapsed += time.perf_counter() - start
        if self.cfg.out:
            self.save_state()
        return {**entry, "val": val}

    def choose_test_steps(self) -> dict:
        """Score the best checkpoint on the validation tasks at each of ``STEP_CHOICES`` inner steps and store
        the fewest steps that score within ``STEP_MARGIN`` of the best as its default (every step costs answer
        time; a smaller difference is a few validation queries). A checkpoint meta-trained with the head's step
        scaled by the number of classes (``head_lr_per_class``) is also scored with the plain step, the body's,
        and the same rule chooses among both (at equal steps the better score, then the plain step): the
        validation tasks span several widths, and the scaled step, right for the widths of training, can
        overshoot on wider tasks. Where validation cannot tell the two apart (a learner whose 1-shot steps
        change no answer scores alike with both), the plain step wins: it is never larger, and the scaled one
        can overshoot on tasks validation does not hold (several shots at 20 classes)."""
        ckpt = load_checkpoint(self.cfg.out)
        meta = {k: v.to(self.device) for k, v in ckpt.params.items()}
        trained = bool(self.learner.hparams.head_lr_per_class)  # the rule of training, whatever was chosen before
        rules = [True, False] if trained else [False]
        scores = {}
        for per_class in rules:
            kw = {} if per_class == trained else {"hparams": self.learner.hparams.replace(head_lr_per_class=per_class)}
            scores[per_class] = {s: self.validate(meta, steps=s, **kw)["score"] for s in STEP_CHOICES}
        top = max(a for by_steps in scores.values() for a in by_steps.values())
        near = [(r, s) for r in rules for s in STEP_CHOICES if scores[r][s] >= top - STEP_MARGIN]
        per_class, best = min(near, key=lambda rs: (rs[1], -scores[rs[0]][rs[1]], rs[0]))
        chosen = {str(s): a for s, a in scores[per_class].items()}
        ckpt.metadata["validation"]["test_steps"] = chosen
        if len(rules) > 1:
            ckpt.metadata["validation"]["head_step"] = {
                "chosen": "per class" if per_class else "plain",
                **{"per class" if r else "plain": {str(s): a for s, a in scores[r].items()} for r in rules}}
        save_checkpoint(self.cfg.out, Checkpoint(ckpt.algorithm, ckpt.hparams.replace(
            test_steps=best, head_lr_per_class=per_class), ckpt.params, ckpt.metadata))
        result = {"chosen": best, **chosen}
        if len(rules) > 1:
            result["head_step"] = ckpt.metadata["validation"]["head_step"]["chosen"]
        return result

    def save_checkpoint(self, val: dict) -> None:
        cfg = self.cfg
        training = {**self.tasks.description,
                    "ways": cfg.ways, "shots": cfg.shots, "queries": cfg.queries, "meta_batch": cfg.meta_batch,
                    "meta_lr": cfg.meta_lr, "lr_schedule": cfg.lr_schedule,
                    "iterations": self.iteration, "planned_iterations": cfg.iterations,
                    "seed": cfg.seed, "initialisation": f"random, seed {cfg.seed}",
                    "first_order_iterations": cfg.first_order_iterations, "recipe": cfg.recipe,
                    "ways_max": cfg.ways_max, "shots_max": cfg.shots_max, "train_steps_max": cfg.train_steps_max,
                    "fixed_steps_iterations": cfg.fixed_steps_iterations,
                    "multi_step_loss": cfg.multi_step_loss, "multi_step_anneal": cfg.multi_step_anneal,
                    "rates_lr_scale": cfg.rates_lr_scale, "val_ways": list(cfg.val_ways),
                    "wall_seconds": round(self.elapsed, 1), "device": str(self.device),
                    "hardware": " and ".join(self.machines), "torch": torch.__version__,
                    "threads": torch.get_num_threads()}
        setting = "1shot_" + "_".join(f"{w}way" for w in cfg.val_ways) if len(cfg.val_ways) > 1 else "5way1shot"
        meta = {"training": training, "validation": {setting: val, "log": self.log}}
        save_checkpoint(cfg.out, Checkpoint(cfg.algorithm, self.learner.hparams, self.meta, meta))


def hardware(device: torch.device) -> str:
    """The machine a run trained on, in words (CPU model and cores, or the accelerator's name)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores ({sys.platform})"
