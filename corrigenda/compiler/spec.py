"""The spec: the YAML file a user writes, as pydantic models.

Every default lives here, explicitly, so `schemas/spec.schema.json` (generated from these models) documents them and a
reviewer of a spec change sees exactly what a missing key means. Unknown keys are errors everywhere.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

StepKind = Literal["filter", "generate", "verify"]

# What each step kind can hand to later steps and to the conversation template.
STEP_OUTPUTS: dict[str, tuple[str, ...]] = {
    "filter": ("suitable", "filter_reason"),
    "generate": ("initial_question", "flawed_answer", "followup_confirmation", "correct_answer"),
    "verify": ("verified", "verify_reasons"),
}

# Variables every prompt may use: they come from the chunk itself.
INPUT_VARIABLES: tuple[str, ...] = ("text", "metadata", "source", "title", "chunk_index")

# A reasonable output budget per step kind, used for the estimate and the max_tokens check.
DEFAULT_EXPECTED_OUTPUT_TOKENS: dict[str, int] = {"filter": 400, "generate": 3000, "verify": 500}


class Strict(BaseModel):
    """Base for every spec section: unknown keys are errors, and the objects are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sampling(Strict):
    """Sampling parameters sent with each request; `None` means the endpoint's own default."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    min_p: float | None = Field(default=None, ge=0, le=1, description="Sent as an extra body field (vLLM, llama.cpp).")
    max_tokens: int | None = Field(default=None, gt=0)
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def merged(self, override: Sampling | None) -> Sampling:
        """The step's override wins key by key over the model's defaults."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_unset=True))


class Pricing(Strict):
    input_per_million: float = Field(default=0.0, ge=0, description="USD per million input tokens.")
    output_per_million: float = Field(default=0.0, ge=0, description="USD per million output tokens.")
    batch_discount: float = Field(
        default=0.5, gt=0, le=1, description="Share of the online price a batch API call costs (OpenAI: 0.5)."
    )

    def cost(self, input_tokens: int, output_tokens: int, batch: bool = False) -> float:
        """USD for that many tokens, online or through a batch API."""
        usd = (input_tokens * self.input_per_million + output_tokens * self.output_per_million) / 1e6
        return usd * self.batch_discount if batch else usd


class ModelSpec(Strict):
    """One named model: where it is served and how hard we may push it."""

    engine: Literal["openai", "heuristic"] = Field(
        default="openai",
        description="`openai`: any OpenAI-compatible HTTP endpoint. `heuristic`: the built-in rule-based engine "
        "(no network, no weights).",
    )
    base_url: str | None = Field(default=None, description="Endpoint root, e.g. https://api.openai.com/v1.")
    base_url_env: str | None = Field(
        default=None, description="Name of an environment variable that, when set, overrides base_url."
    )
    api_key_env: str | None = Field(
        default=None,
        description="Name of the environment variable holding the API key (never the key itself). "
        "Leave out for endpoints that need no key.",
    )
    model: str = Field(default="heuristic", description="Model name as the endpoint knows it.")
    mode: Literal["chat", "completion"] = "chat"
    completion_template: str | None = Field(
        default=None,
        description="Jinja2 chat template used to render messages into one prompt in completion mode.",
    )
    sampling: Sampling = Sampling()
    concurrency: int = Field(default=16, ge=1, le=4096, description="Requests kept in flight while work remains.")
    adaptive_concurrency: bool = Field(
        default=True,
        description="Halve the requests in flight on a burst of 429/503 or inflated latency, add them back while "
        "requests succeed; `concurrency` is the ceiling. false: always `concurrency`.",
    )
    rpm: int | None = Field(default=None, gt=0, description="Requests per minute limit.")
    tpm: int | None = Field(default=None, gt=0, description="Tokens per minute limit (input + output).")
    timeout_s: float = Field(default=600.0, gt=0, description="Per-request timeout; reasoning models need minutes.")
    max_attempts: int = Field(default=6, ge=1, le=50, description="HTTP attempts per call (errors, 429, 5xx).")
    backoff_s: float = Field(default=1.0, gt=0, description="First retry delay; doubles per attempt, with jitter.")
    backoff_max_s: float = Field(default=60.0, gt=0, description="Longest retry delay (a Retry-After header wins).")
    give_up_after_s: float = Field(
        default=120.0,
        gt=0,
        description="Stop the build (exit 3) when no connection to the endpoint succeeds for this long (refused, DNS, "
        "TLS, connect timeouts); every finished call is cached and a rerun resumes. Shorter outages are waited out.",
    )
    context_tokens: int | None = Field(default=None, gt=0, description="Context window, for the plan's checks.")
    pricing: Pricing = Pricing()
    batch: bool = Field(
        default=False,
        description="Send this model's calls through the endpoint's batch API (/v1/files + /v1/batches): each step "
        "becomes a barrier, at the batch price.",
    )
    batch_poll_s: float = Field(default=30.0, gt=0, description="First wait between batch status polls; doubles.")
    batch_poll_max_s: float = Field(default=600.0, gt=0, description="Longest wait between batch status polls.")
    batch_resubmits: int = Field(
        default=2,
        ge=0,
        le=20,
        description="Times the calls without a result of a failed or expired batch are sent again.",
    )
    batch_fallback: Literal["fail", "online"] = Field(
        default="fail",
        description="Calls still without a result after the resubmits: `fail` them, or send them as `online` requests.",
    )

    @model_validator(mode="after")
    def _endpoint_needed(self) -> ModelSpec:
        if self.engine == "openai" and not (self.base_url or self.base_url_env):
            raise ValueError("an `openai` engine model needs base_url or base_url_env")
        if self.mode == "completion" and not self.completion_template:
            raise ValueError("completion mode needs completion_template (the model's chat template)")
        return self


class Subset(Strict):
    size: int = Field(gt=0, description="How many chunks to keep.")
    seed: int = Field(default=0, description="Different seeds give different, reproducible samples.")


class InputsSpec(Strict):
    """Which documents to read and how to cut them."""

    paths: tuple[str, ...] = Field(min_length=1, description="Files, directories or globs, relative to the spec file.")
    types: tuple[Literal["txt", "md", "pdf", "docx", "jsonl"], ...] = ("txt", "md", "pdf", "docx", "jsonl")
    encoding: str = Field(default="cl100k_base", description="tiktoken encoding used to count tokens.")
    chunk_size: int = Field(default=3000, ge=16, description="Most tokens in one chunk, ever.")
    overlap: int = Field(default=0, ge=0, description="Tokens repeated from the end of the previous chunk.")
    min_chunk_tokens: int = Field(
        default=16,
        ge=0,
        description="Smaller chunks are merged into or re-split with a neighbour; only whole documents this short are "
        "skipped (and named in the ingestion report). At most half of chunk_size.",
    )
    subset: Subset | None = Field(default=None, description="A deterministic sample of the chunks; null for all.")
    on_unreadable: Literal["report", "strict"] = Field(
        default="report", description="`strict` fails the build when any input file cannot be read."
    )

    @model_validator(mode="after")
    def _overlap_fits(self) -> InputsSpec:
        if self.overlap * 2 > self.chunk_size:
            raise ValueError("overlap must be at most half of chunk_size")
        if self.min_chunk_tokens * 2 > self.chunk_size:  # else a short tail and its neighbour cannot both fit
            raise ValueError("min_chunk_tokens must be at most half of chunk_size")
        return self


class StepSpec(Strict):
    """One LLM step: which prompt, which model, and what it hands on."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: StepKind
    model: str = Field(description="A key of `models`.")
    prompt: str | None = Field(
        default=None, description="Prompt file under prompts_dir (not needed on a heuristic model)."
    )
    sampling: Sampling | None = Field(default=None, description="Overrides of the model's sampling, key by key.")
    max_retries: int = Field(default=3, ge=0, le=20, description="Fresh samples after a parse or validation failure.")
    retry_on_length: bool = Field(default=False, description="Retry when the answer was cut off by max_tokens.")
    structured_output: bool = Field(
        default=False, description="Ask for a JSON object via response_format with a JSON Schema."
    )
    expected_output_tokens: int | None = Field(
        default=None, gt=0, description="Typical answer length (reasoning included); defaults by kind."
    )
    produces: tuple[str, ...] | None = Field(
        default=None, description="Outputs handed to later steps; defaults to everything the kind produces."
    )
    regenerate_rejected: int = Field(
        default=0, ge=0, le=10, description="verify only: how often a rejected conversation is regenerated."
    )

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.produces if self.produces is not None else STEP_OUTPUTS[self.kind]

    @property
    def output_budget(self) -> int:
        return self.expected_output_tokens or DEFAULT_EXPECTED_OUTPUT_TOKENS[self.kind]

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> StepSpec:
        if self.regenerate_rejected and self.kind != "verify":
            raise ValueError("regenerate_rejected applies to verify steps only")
        if self.structured_output and self.kind == "filter":
            raise ValueError("structured_output applies to generate and verify steps (a filter answers with a line)")
        return self

    @model_validator(mode="after")
    def _produces_known(self) -> StepSpec:
        unknown = sorted(set(self.produces or ()) - set(STEP_OUTPUTS[self.kind]))
        if unknown:
            raise ValueError(
                f"a {self.kind} step cannot produce {', '.join(unknown)} "
                f"(it produces {', '.join(STEP_OUTPUTS[self.kind])})"
            )
        return self


AUGMENTOOLKIT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'system') %}"
    "{{message['content'] + '\\n'}}{% elif (message['role'] == 'user') %}"
    "{{'Human: ' + message['content'] + ' **Finished.**' + '\\n'}}{% elif message['role'] == 'assistant' %}"
    "{{'AI: ' + message['content'] + ' **Finished.**' + '\\n'}}{% endif %}{% endfor %}"
)


class TemplateSpec(Strict):
    """How the four turns become one training string."""

    prompt_template: str = Field(default=AUGMENTOOLKIT_TEMPLATE, description="Jinja2 chat template over `messages`.")
    bos_token: str = ""
    eos_token: str = ""
    system_prompt: str | None = Field(default=None, description="Optional system message before the four turns.")
    mask_flawed_turn_markers: bool = Field(
        default=False, description="Also mask the flawed turn's role header and end-of-turn marker."
    )


class MetaDatagen(Strict):
    enabled: bool = False
    keys: tuple[str, ...] = Field(
        default=(), description="Step names whose calls go into the meta dataset; empty: all."
    )


class CardSpec(Strict):
    """The dataset card's Hub metadata (its YAML front matter), so the release can be pushed to the Hub as it is."""

    license: str = Field(
        default="other", description="License id for the card (e.g. cc-by-4.0, mit); 'other' if unsure."
    )
    language: tuple[str, ...] = Field(default=("en",), description="Language codes of the conversations.")
    pretty_name: str | None = Field(default=None, description="Display name on the Hub; default: the spec's name.")
    tags: tuple[str, ...] = Field(default=(), description="Extra Hub tags, after corrigenda's own.")


class OutputSpec(Strict):
    dir: str = Field(default="out", description="Release directory, relative to the spec file.")
    formats: tuple[Literal["input_output", "chat_template"], ...] = ("input_output", "chat_template")
    meta_datagen: MetaDatagen = MetaDatagen()
    card: CardSpec = CardSpec()
    cache: str = Field(default=".corrigenda-cache/calls.sqlite", description="SQLite cache, relative to the spec file.")
    max_failed_fraction: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Release nothing when more than this share of suitable chunks failed (errors, unusable answers).",
    )


class Spec(Strict):
    """A whole pipeline: models, inputs, steps, the conversation template and outputs."""

    version: Literal[1] = 1
    name: str = "correction"
    prompts_dir: str | None = Field(
        default=None,
        description="Where step prompts live, relative to the spec file; null for the built-in prompts.",
    )
    models: dict[str, ModelSpec] = Field(min_length=1)
    inputs: InputsSpec
    steps: tuple[StepSpec, ...] = Field(min_length=1)
    template: TemplateSpec = TemplateSpec()
    output: OutputSpec = OutputSpec()
    max_usd: float | None = Field(
        default=None,
        gt=0,
        description="Spending cap in USD (cached answers included): no request or batch is sent that could pass it; "
        "the build stops with exit 4.",
    )
