"""Browse a bench in a web page: pick a question and two models, read both answers side by side and
the judge's two games with each game's verdict (who won, strongly or slightly).

Reads data/<bench>/question.jsonl, data/<bench>/model_answer/<model>.jsonl and
data/<bench>/model_judgment/<judge>/<model>.jsonl (either record format); writes nothing. Serves on
127.0.0.1 unless --host says otherwise; a public gradio link is made only with --share.

    python qa_browser.py [--bench-name BENCH] [--judge-name JUDGE] [--baseline MODEL]
                         [--config-file config/judge_config.yaml]
                         [--host 127.0.0.1] [--port 7860] [--share]
"""
from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from arena_hard.browser.data import BenchData, QuestionFilter, Show, View
from arena_hard.browser.markdown import md_name
from arena_hard.core.bench_version import V0_1, version_for
from arena_hard.core.config_file import load_yaml
from arena_hard.core.errors import ArgumentParser, UserError, run_main
from arena_hard.core.records import Bench

if TYPE_CHECKING:
    import gradio

DEFAULT_HOST = "127.0.0.1"
AUTO_PORTS = range(7860, 7960)  # gradio's choice when --port is not given
PANEL_MAX_HEIGHT = 720  # px; a longer answer or judgment scrolls inside its panel
CSS = "#answer-a, #answer-b, #game-1, #game-2 { overflow-wrap: anywhere; }"
# Judge config keys that stand in for flags the user did not give.
CONFIG_KEYS = {"bench_name": "bench_name", "judge_name": "judge_model", "baseline": "baseline_model"}


def text_panel(gr: Any, text: str, elem_id: str, **options: Any) -> Any:
    """A markdown panel of text from the files: its line breaks kept as written (one newline is a
    break, not a space), hidden while it has no text."""
    return gr.Markdown(text, elem_id=elem_id, line_breaks=True, visible=bool(text), **options)


def panel_pair(gr: Any, text: str, elem_id: str, details: str, details_id: str,
               details_label: str) -> tuple[Any, ...]:
    """A column: a panel, and beneath it a collapsed one (an answer and its thought, a game and the
    prompt the judge was sent). The column is hidden without text, the collapsed panel without details.
    Returns (column, panel, collapsed panel, its text), the components pair_update updates."""
    with gr.Column(visible=bool(text)) as column:
        panel = text_panel(gr, text, elem_id, container=True, padding=True, max_height=PANEL_MAX_HEIGHT)
        with gr.Accordion(details_label, open=False, visible=bool(details), elem_id=f"{details_id}-panel") as box:
            return column, panel, box, text_panel(gr, details, details_id, max_height=PANEL_MAX_HEIGHT)


def pair_update(gr: Any, text: str, details: str) -> list[Any]:
    """The new state of a panel_pair's components."""
    return [gr.Column(visible=bool(text)), shown(gr, text), gr.Accordion(visible=bool(details)), shown(gr, details)]


def shown(gr: Any, text: str) -> Any:
    """A text_panel's new text, hidden when there is none."""
    return gr.Markdown(text, visible=bool(text))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ArgumentParser(description="Browse questions, answers and judgments in a web page.")
    parser.add_argument("--bench-name", help=f"the folder under data/ (default {V0_1.default_bench})")
    parser.add_argument("--judge-name", help="the folder under model_judgment/ (default: the bench version's judge, "
                        f"{V0_1.default_judge} for {V0_1.version})")
    parser.add_argument("--baseline", help="the model the judge compared the others with (default: the bench "
                        f"version's baseline, {V0_1.default_baseline} for {V0_1.version})")
    parser.add_argument("--config-file", type=Path,
                        help="a judge config: its bench_name, judge_model and baseline_model fill in flags not given")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="the address to listen on (default: %(default)s, this machine only; 0.0.0.0: the network)")
    parser.add_argument("--port", type=int,
                        help=f"the port (default: the first free one from {AUTO_PORTS[0]} to {AUTO_PORTS[-1]})")
    parser.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    args = parser.parse_args(argv)
    if args.port is not None and not 1 <= args.port <= 65535:
        parser.error(f"argument --port: {args.port} is not a port number (1-65535)")
    return args


def resolve_settings(args: argparse.Namespace) -> tuple[str, str, str]:
    """(bench, judge, baseline): each flag, else the config file's key, else the default of the bench's
    version (bench_version.version_for)."""
    config: dict[str, Any] = load_yaml(args.config_file) if args.config_file else {}

    def setting(flag: str) -> str | None:
        value = getattr(args, flag)
        if value is None and CONFIG_KEYS[flag] in config:
            value = config[CONFIG_KEYS[flag]]
            if not isinstance(value, str) or not value:
                raise UserError(f"{args.config_file}: `{CONFIG_KEYS[flag]}` must be a non-empty string, "
                                f"found {value!r}")
        return value

    bench = setting("bench_name") or V0_1.default_bench
    version = version_for(bench)
    return bench, setting("judge_name") or version.default_judge, setting("baseline") or version.default_baseline


def build_app(data: BenchData) -> gradio.Blocks:
    """The gradio Blocks page over `data` (not launched)."""
    import gradio as gr  # here, not at the top: flag and data errors are reported without gradio's import time

    with gr.Blocks(title=f"Arena-Hard browser · {data.bench.name}", analytics_enabled=False) as app:
        gr.Markdown(f"# {md_name(data.bench.name)}", elem_id="title")
        gr.Markdown(data.status, elem_id="status")
        if data.problem:
            gr.Markdown(data.problem, elem_id="problem")
            return app
        model_a_default, model_b_default = data.default_models()
        choices, question_default = data.select(QuestionFilter(), None, model_b_default)
        first = data.view(question_default, model_a_default, model_b_default)
        by_judge = {data.judge: data}

        def for_judge(judge_value: str | None) -> BenchData:
            judge_value = judge_value or data.judge
            if judge_value not in by_judge:
                by_judge[judge_value] = data.with_judge(judge_value)
            return by_judge[judge_value]

        with gr.Row():
            judge = gr.Dropdown(data.judge_choices(), value=data.judge, label="Judge", elem_id="judge")
            category = gr.Dropdown(data.category_choices(), value="", label="Category", elem_id="category")
            cluster = gr.Dropdown(data.cluster_choices(), value="", label=data.cluster_label, elem_id="cluster")
            search = gr.Textbox(label="Search question text", placeholder="words the question must contain",
                                elem_id="search")
        show = gr.Radio([item.value for item in Show], value=Show.ALL.value, label="Show", elem_id="show")
        question = gr.Dropdown(choices, value=question_default, label="Question (type to filter)",
                               elem_id="question")
        with gr.Row():
            model_a = gr.Dropdown(list(data.models), value=model_a_default, label="Model A", elem_id="model-a")
            model_b = gr.Dropdown(list(data.models), value=model_b_default, label="Model B", elem_id="model-b")
        question_text = text_panel(gr, first.question, "question-text", container=True, padding=True)
        with gr.Row(equal_height=False):
            answer_pairs = [panel_pair(gr, text, f"answer-{side}", thought, f"thought-{side}",
                                       f"Model {side.upper()}'s thought (reasoning, not part of the answer)")
                            for side, text, thought in zip("ab", (first.answer_a, first.answer_b), first.thoughts)]
        judgment = text_panel(gr, first.judgment, "judgment", container=True, padding=True)
        with gr.Row(equal_height=False):
            game_pairs = [panel_pair(gr, text, f"game-{number}", prompt, f"prompt-{number}",
                                     f"Game {number}: the prompt as sent to the judge")
                          for number, (text, prompt) in enumerate(zip(first.games, first.prompts), 1)]
        view_outputs = [question_text, judgment,
                        *(component for pair in answer_pairs + game_pairs for component in pair)]

        def panels(view: View) -> list[Any]:
            pairs = [*zip((view.answer_a, view.answer_b), view.thoughts), *zip(view.games, view.prompts)]
            return [shown(gr, view.question), shown(gr, view.judgment),
                    *(update for text, details in pairs for update in pair_update(gr, text, details))]

        def follow_baseline(bench: BenchData, question_id: str | None, model_a_value: str | None) -> str | None:
            """Model A moves to the question's category baseline while it shows a baseline."""
            baselines = {bench.baseline_for(q.question_id) for q in bench.questions}
            new = bench.baseline_for(question_id)
            return new if model_a_value in baselines and new in bench.models else model_a_value

        def on_filter(judge_value, category_value, cluster_value, search_value, show_value, question_id,
                      model_a_value, model_b_value):
            bench = for_judge(judge_value)
            question_filter = QuestionFilter(category_value or "", cluster_value or "", search_value or "",
                                             Show(show_value))
            new_choices, selected = bench.select(question_filter, question_id, model_b_value)
            model_a_value = follow_baseline(bench, selected, model_a_value)
            return [gr.Dropdown(choices=new_choices, value=selected), model_a_value,
                    *panels(bench.view(selected, model_a_value, model_b_value))]

        def on_question(judge_value, question_id, model_a_value, model_b_value):
            bench = for_judge(judge_value)
            model_a_value = follow_baseline(bench, question_id, model_a_value)
            return [model_a_value, *panels(bench.view(question_id, model_a_value, model_b_value))]

        def on_model_a(judge_value, question_id, model_a_value, model_b_value):
            return panels(for_judge(judge_value).view(question_id, model_a_value, model_b_value))

        filter_inputs = [judge, category, cluster, search, show, question, model_a, model_b]
        for control in (judge, category, cluster, search, show, model_b):
            control.change(on_filter, filter_inputs, [question, model_a, *view_outputs], trigger_mode="always_last")
        question.input(on_question, [judge, question, model_a, model_b], [model_a, *view_outputs],
                       trigger_mode="always_last")
        model_a.input(on_model_a, [judge, question, model_a, model_b], view_outputs, trigger_mode="always_last")
    return app


def check_listen(host: str, port: int | None) -> None:
    """Fail with one line if `host` (and `port`, when given) cannot be listened on, before the server
    tries and logs its own error."""
    where = f"{host}:{port}" if port else host
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            probe.bind(address)
    except OSError as error:
        raise UserError(f"cannot listen on {where}: {error.strerror or error}; choose another --port or "
                        "--host") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench_name, judge, baseline = resolve_settings(args)
    data = BenchData(Bench(bench_name), judge, baseline)
    check_listen(args.host, args.port)
    app = build_app(data)
    try:
        # quiet: gradio's own banner tells users to edit launch(); the line below names the flags instead
        _, local_url, _ = app.launch(server_name=args.host, server_port=args.port, share=args.share,
                                     prevent_thread_lock=True, show_error=True, css=CSS, quiet=True)
    except OSError:  # taken since check_listen, or no free port in gradio's range when --port is not given
        ports = args.port or f"{AUTO_PORTS[0]}-{AUTO_PORTS[-1]}"
        raise UserError(f"cannot listen on {args.host}:{ports}: the port is in use; choose another --port") from None
    reach = "this machine only" if args.host == DEFAULT_HOST else f"any host that can reach {args.host}"
    if not args.share:
        reach += "; --share adds a public link"
    print(f"qa_browser: serving {data.bench.directory} at {local_url} ({reach})", flush=True)
    app.block_thread()
    return 0


if __name__ == "__main__":
    run_main(main)
