"""The one resumable training loop, shared by the networks (:mod:`.train`) and the
L22 heads (:mod:`photoz.lin2022.heads`).

A checkpoint (model, optimizer state, step) and the history so far are written every
``checkpoint_every`` steps; a rerun restores the latest checkpoint and continues at the
next step, so on CPU the final weights equal those of an uninterrupted run provided the
caller's batches depend only on the step. The history travels with the checkpoint:
Snakemake deletes an interrupted job's declared outputs (``history.csv``) before
rerunning it, not the ``checkpoints`` directory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from .member import read_history, write_history

log = logging.getLogger(__name__)


class ResumableTraining:
    """Checkpointing, validation rows and history of one member's training.

    Create it once the model and optimizer exist (it restores the latest checkpoint in
    ``out/checkpoints``; :attr:`start` is the step it continues after, 0 on a fresh
    start), then call :meth:`run`.
    """

    def __init__(self, out: Path, model, optimizer, strategy=None):
        import tensorflow as tf

        self.out = Path(out)
        if strategy is not None:
            with strategy.scope():
                self.step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        else:
            self.step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=self.step_var)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.out / "checkpoints", max_to_keep=2)
        if self.manager.latest_checkpoint:
            self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
        # read_value: under MirroredStrategy the step is a MirroredVariable, which int()
        # refuses (the bug that stopped multi-GPU training)
        self.start = int(self.step_var.read_value())
        if self.manager.latest_checkpoint:
            log.info("resumed from %s at step %d", self.manager.latest_checkpoint, self.start)
        self.history = read_history(self.out / "checkpoints" / "history.csv", self.start)

    @property
    def resumed(self) -> bool:
        """Whether a checkpoint was restored."""
        return self.start > 0

    def run(
        self,
        train_step: Callable[[int], float],
        steps: int,
        validate_every: int,
        checkpoint_every: int,
        batch_size: int,
        epoch_of: Callable[[int], float],
        learning_rate_of: Callable[[int], float],
        validate: Callable[[], dict[str, float]],
        tensorboard: bool = True,
    ) -> list[dict]:
        """Run ``train_step(step)`` (returns the batch loss) for the steps after
        :attr:`start` up to ``steps``; a validation row (mean training loss since the
        last row, ``validate()``'s metrics, throughput) every ``validate_every`` steps
        and at the end, a checkpoint every ``checkpoint_every`` steps and at the end.
        Returns the history rows."""
        import tensorflow as tf

        writer = tf.summary.create_file_writer(str(self.out / "tensorboard")) if tensorboard else None
        running, n_running, t_last = 0.0, 0, time.perf_counter()
        for step in range(self.start + 1, steps + 1):
            running += float(train_step(step))
            n_running += 1
            if step % validate_every == 0 or step == steps:
                elapsed = time.perf_counter() - t_last
                row = {
                    "step": step,
                    "epoch": epoch_of(step),
                    "learning_rate": learning_rate_of(step),
                    "train_loss": running / n_running,
                    **validate(),
                    "images_per_s": n_running * batch_size / elapsed,
                }
                self.history.append(row)
                if writer is not None:
                    with writer.as_default(step=step):
                        for name, value in row.items():
                            if name != "step":
                                tf.summary.scalar(name, value)
                log.info("step %d: %s", step, {k: round(v, 5) for k, v in row.items() if k != "step"})
                running, n_running, t_last = 0.0, 0, time.perf_counter()
            if step % checkpoint_every == 0 or step == steps:
                self.step_var.assign(step)
                self.manager.save(checkpoint_number=step)
                write_history(self.history, self.out / "checkpoints" / "history.csv")
        if writer is not None:
            writer.flush()
        return self.history
