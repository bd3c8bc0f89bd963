"""A model's price per million input, cached-input and output tokens, for direct and batch runs.

`price_of(model, batch)`: the api_config entry's `price` when it has one; nothing for a `mock` model;
else the price database of the `genai-prices` package (Pydantic's, maintained, shipped inside the
package as data, so a lookup never needs the network), found by the entry's API model name at its
provider: the provider whose API address the endpoint's `api_base` is, or, with no `api_base`, the
api_type's own (openai, azure, anthropic). A model served elsewhere (a local server, a gateway the
database does not know) has no price there: None, and the caller says so once and shows it as
unknown. A batch run is priced at the provider's batch rate: the database's batch price when it has
one, else the half of the direct price that OpenAI, Azure OpenAI and Anthropic charge for batches
(also for an entry's own `price`). An embedding model is priced by its input alone (the database
gives embeddings no output price; they have no output). Prices in effect today are used. Reads the
package's data only."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.usage import Rates

PROVIDER_OF_API_TYPE = {"openai": "openai", "azure": "azure", "anthropic": "anthropic"}
BATCH_FACTOR = {"openai": 0.5, "azure": 0.5, "anthropic": 0.5}  # the providers' published batch discount
FREE = Rates(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Price:
    rates: Rates
    source: str  # where the price comes from, for the bill and the report

    def describe(self) -> str:
        r = self.rates
        return f"${r.input:g}/${r.output:g} per M input/output tokens (cached ${r.cached_input:g}; {self.source})"


@functools.lru_cache(maxsize=1)
def _snapshot() -> Any:
    from genai_prices import data_snapshot  # imported only when a price is looked up (a large data module)

    return data_snapshot.get_snapshot()


def database_version() -> str:
    from importlib.metadata import version

    return f"genai-prices {version('genai-prices')}"


def _rate(value: Any) -> float | None:
    """A database price as a float: tiered prices (by prompt length) at their base tier."""
    if value is None:
        return None
    return float(getattr(value, "base", value))


def database_rates(model_name: str, api_type: str, api_base: str | None, batch: bool,
                   embedding: bool = False) -> tuple[Rates, str] | None:
    """The database's rates for `model_name` at its provider, and the model and provider it matched;
    None when the provider or the model is not in the database, or has no token price (an embedding
    model needs only an input price)."""
    snapshot = _snapshot()
    try:
        if api_base:
            provider = snapshot.find_provider(None, None, api_base.strip())
        else:
            provider = snapshot.find_provider(None, PROVIDER_OF_API_TYPE.get(api_type, api_type), None)
        found = provider.find_model(model_name, all_providers=snapshot.providers)
    except LookupError:
        return None
    if found is None:
        return None
    now = datetime.now(timezone.utc)
    direct = found.get_prices(now)
    prices = found.get_prices(now, {"processing": "batch"}) if batch else direct
    input_rate, output_rate = _rate(prices.input_mtok), _rate(prices.output_mtok)
    if embedding and output_rate is None:
        output_rate = 0.0
    if input_rate is None or output_rate is None:
        return None
    cached = _rate(prices.cache_read_mtok)
    rates = Rates(input_rate, output_rate, input_rate if cached is None else cached)
    where = f"{database_version()}: {provider.id} {found.id}"
    if batch:
        if prices == direct:  # the database has no batch price for it: the provider's batch discount
            return rates.scaled(BATCH_FACTOR.get(api_type, 1.0)), f"{where}, batch at {_percent(api_type)}"
        return rates, f"{where}, batch price"
    return rates, where


def _api_base(model: ModelConfig) -> str | None:
    """The first endpoint's address; None for a local engine, whose servers the run starts."""
    return model.endpoints[0].api_base if model.endpoints else None


def _percent(api_type: str) -> str:
    return f"{100 * BATCH_FACTOR.get(api_type, 1.0):g}%"


def price_of(model: ModelConfig, batch: bool = False, embedding: bool = False) -> Price | None:
    """The model's price per million tokens for a direct run, or a batch run (of an embedding model
    when `embedding`); None when unknown."""
    if model.price is not None:
        where = f"{model.source}: `{model.name}.price`"
        if batch and model.price != FREE:
            return Price(model.price.scaled(BATCH_FACTOR.get(model.api_type, 1.0)),
                         f"{where}, batch at {_percent(model.api_type)}")
        return Price(model.price, where)
    if model.api_type == "mock":
        return Price(FREE, "mock model: no calls are paid for")
    found = database_rates(model.model_name, model.api_type, _api_base(model), batch, embedding)
    return Price(*found) if found is not None else None


def unknown_price_note(model: ModelConfig) -> str:
    """The one line said when a model has no known price."""
    at = f" at {_api_base(model)}" if _api_base(model) else f" ({model.api_type})"
    return (f"note: {model.name}: no price known for model {model.model_name!r}{at} in {database_version()}; its cost "
            f"is shown as unknown. Set `{model.name}.price: {{input: USD, output: USD}}` per million tokens in "
            f"{model.source} (price: 0 for a local model)")
