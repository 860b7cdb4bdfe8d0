"""The served model: loaded from the registry, verified, and swapped atomically on reload."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from service.scoring import Scorer
from training import artifacts
from training.artifacts import ModelRejected

log = logging.getLogger(__name__)


class ModelHolder:
    """Holds the current ``Scorer``; readers take ``holder.scorer`` once per request.

    Replacing the reference is atomic, so a request in flight finishes on the model it
    started with while the next one gets the new model. A model that fails verification or
    loading never replaces a working one.
    """

    def __init__(
        self,
        models_dir: Path,
        *,
        on_loaded: Callable[[str], None] | None = None,
        on_rejected: Callable[[], None] | None = None,
    ) -> None:
        self.models_dir = models_dir
        self._on_loaded = on_loaded
        self._on_rejected = on_rejected
        self.scorer: Scorer | None = None
        self.last_error: str | None = None
        self.reloads = 0
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.scorer is not None

    def wanted_version(self) -> str | None:
        return artifacts.current_version(self.models_dir)

    def refresh(self, version: str | None = None) -> bool:
        """Load ``version`` (default: the registry's current one) if it is not served yet.

        Returns True when a new model was swapped in.
        """
        with self._lock:
            version = version or self.wanted_version()
            if version is None:
                if self.scorer is None:
                    self.last_error = f"no current model in {self.models_dir} (train one first)"
                return False
            if self.scorer is not None and self.scorer.version == version:
                return False
            try:
                scorer = Scorer(artifacts.load_model(self.models_dir / version))
            except ModelRejected as exc:
                if self.last_error != str(exc):
                    log.error("model %s not loaded: %s", version, exc)
                    if self._on_rejected:
                        self._on_rejected()
                self.last_error = str(exc)
                return False
            previous = self.scorer.version if self.scorer else None
            self.scorer = scorer
            self.last_error = None
            self.reloads += 1
            log.info("serving model %s (was %s)", version, previous)
            if self._on_loaded:
                self._on_loaded(version)
            return True
