"""Driving the labelling app as a person would: the server as a process, a headless Chromium, counted actions.

The browser is Debian's ``chromium`` (``make browser-deps``) driven by
Playwright for Python (the ``test`` extra, which ``make setup`` installs;
Playwright's own browser download is never used). The browser tests and
``tools/benchmark_labelling.py`` both drive the page with this module; only
``launch_browser`` imports Playwright, so the package imports without it.

``label_by_track``, ``label_box_by_box`` and ``label_with_suggestions`` are
the scripted sessions of the measure in docs/labelling.md;
``track_span_count``, ``box_by_box_count`` and ``suggestion_fixes`` count what
they do without a browser.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from slowfast_custom.errors import UserError

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

Tracks = Dict[str, Dict[int, List[int]]]  # {video: {person: [seconds of the person's boxes]}}
Plan = Dict[Tuple[str, int, int], int]  # (video, person, second) -> the one action that person does then
Suggestions = Dict[Tuple[str, int, int], Tuple[int, ...]]  # (video, person, second) -> a model's suggested actions


def browser_missing() -> Optional[str]:
    """Why the page cannot be driven here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed: pip install -e '.[test]' (make setup does)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM}: make browser-deps (apt-get install chromium), or set CHROMIUM to one"
    return None


@contextlib.contextmanager
def launch_browser() -> Iterator[object]:
    """A headless Debian chromium (a Playwright ``Browser``); UserError naming what is missing."""
    reason = browser_missing()
    if reason:
        raise UserError(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class AppServer:
    """``tools/annotate.py`` in its own process, which can be killed and started again on the same port."""

    def __init__(self, dataset: Path, log: Path, args: Sequence[str] = ()) -> None:
        self.dataset, self.log, self.args = dataset, log, list(args)
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 120) -> "AppServer":
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(REPO / "tools" / "annotate.py"), str(self.dataset), "--port", str(self.port),
                 *self.args], stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO,
                env=dict(os.environ, PYTHONWARNINGS="ignore"))
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            self.kill()
            raise RuntimeError(f"the server did not start: {line!r}\n{self.log_tail()}")
        self.port = int(match.group(1))
        return self

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text()[-chars:] if self.log.is_file() else ""

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as when the machine or the terminal dies."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()


class Labeller:
    """A person at the page; ``clicks`` and ``keys`` count what they did (a drag is one click)."""

    def __init__(self, page) -> None:
        self.page = page
        self.clicks = 0
        self.keys = 0

    @property
    def actions(self) -> int:
        return self.clicks + self.keys

    def click(self, selector: str, shift: bool = False) -> None:
        self.page.click(selector, modifiers=["Shift"] if shift else None)
        self.clicks += 1

    def cell(self, person: int, second: int, shift: bool = False) -> None:
        """Click the timeline cell of ``person`` at ``second``: that keyframe, that person, the default span."""
        self.click(f"#tracks tr[data-person='{person}'] td[data-second='{second}']", shift)

    def lane(self, person: int, action: int, second: int) -> None:
        """Click the action lane of ``person`` at ``second``: that action from there over the default span."""
        self.click(f"#tracks tr.lane[data-person='{person}'][data-action='{action}'] td[data-second='{second}']")

    def row(self, person: int) -> None:
        self.click(f"#tracks tr[data-person='{person}'] th.person")

    def box(self, person: int) -> None:
        """Click a visible point of the person's box (the middle may lie under another person's box)."""
        point = self.page.evaluate(_VISIBLE_POINT, str(person))
        if point is None:
            raise AssertionError(f"the box of person {person} is hidden under others")
        self.page.mouse.click(*point)
        self.clicks += 1

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.keys += 1

    def next_video(self, video: str) -> None:
        """Go on to the next video of the list (``PageDown``), which must be ``video``."""
        self.press("PageDown")
        shown = self.page.input_value("#video")
        if shown != video:
            raise AssertionError(f"PageDown showed video {shown!r}, not the next one to label, {video!r}")

    def choose_video(self, video: str) -> None:
        self.page.select_option("#video", video)
        self.clicks += 2  # open the list, pick the video

    def drag(self, selector: str, dx: int, dy: int) -> None:
        """Press on the middle of ``selector`` (rounded to a whole pixel), move by (dx, dy) pixels, release."""
        box = self.page.locator(selector).bounding_box()
        x, y = round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)
        mouse = self.page.mouse
        mouse.move(x, y)
        mouse.down()
        mouse.move(x + dx / 2, y + dy / 2)
        mouse.move(x + dx, y + dy)
        mouse.up()
        self.clicks += 1

    def settle(self, timeout: float = 30_000) -> None:
        """Wait until every change sent is acknowledged (saved by the server)."""
        # Selectors, not wait_for_function: the page's Content-Security-Policy forbids evaluating strings.
        self.page.wait_for_selector("body[data-pending='0']", state="attached", timeout=timeout)

    def status(self) -> str:
        return self.page.inner_text("#status")

    def second(self) -> int:
        return int(self.page.get_attribute("#second", "data-second"))

    def selection(self) -> Tuple[Optional[int], int, str]:
        """(selected person, shown second, first second of the span) as the page shows them."""
        row = self.page.locator("#tracks tr.selected")
        person = int(row.get_attribute("data-person")) if row.count() else None
        return person, self.second(), self.page.input_value("#span-first")


_VISIBLE_POINT = """(person) => {
  const el = document.querySelector(`#boxes .box[data-person="${person}"]`);
  const r = el.getBoundingClientRect();
  for (const fy of [0.5, 0.3, 0.7, 0.15, 0.85]) {
    for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
      const x = Math.round(r.left + fx * r.width), y = Math.round(r.top + fy * r.height);
      const hit = document.elementFromPoint(x, y);
      if (hit && hit.closest(".box") === el) return [x, y];
    }
  }
  return null;
}"""


def open_page(browser, url: str, width: int = 1200, height: int = 860):
    """A new page on the app, loaded; ``page.errors`` collects its script errors (none is expected)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: List[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.errors = errors
    page.goto(url)
    page.wait_for_selector("body[data-revision]", state="attached")
    return page


# -- scripted sessions and what they count ---------------------------------------------------------


def label_by_track(labeller: Labeller, tracks: Tracks, plan: Plan, keys: Dict[int, str],
                   auto_next: bool = False, lanes: bool = False) -> None:
    """Label every track by spans: per run of one action, select its first keyframe and press the action's key.

    The default span reaches to the track's end, so each run is labelled to the end first and the next run
    (a later click) overwrites its part: the person labels in time order, never giving an end. The run is
    selected by a click on its timeline cell unless the page already selected it (``auto_next``: the page
    goes on to the next unlabelled track by itself). With ``lanes`` a later run of a track is one click on
    the action's lane at the run's first second (the lanes of the track auto-advance just left stay shown).
    """
    if auto_next:
        labeller.press("a")
    for number, video in enumerate(sorted(tracks)):
        if number:
            labeller.next_video(video)
        for person, seconds in tracks[video].items():
            previous = None
            for second in seconds:
                action = plan[(video, person, second)]
                if action != previous and lanes and previous is not None:
                    labeller.lane(person, action, second)
                    labeller.settle()
                    previous = action
                elif action != previous:
                    if labeller.selection() != (person, second, str(second)):
                        labeller.cell(person, second)
                    labeller.press(keys[action])
                    labeller.settle()
                    previous = action


def label_box_by_box(labeller: Labeller, tracks: Tracks, plan: Plan, keys: Dict[int, str],
                     keyframes: Dict[str, List[int]]) -> None:
    """Label every box on its own, as in VIA: keyframe by keyframe, click each box, press its action's key."""
    labeller.press("o")  # the span is the one keyframe
    for number, video in enumerate(sorted(tracks)):
        if number:
            labeller.next_video(video)
        at = 0
        people: Dict[int, List[int]] = {}
        for person, seconds in tracks[video].items():
            for second in seconds:
                people.setdefault(second, []).append(person)
        for index, second in enumerate(keyframes[video]):
            if second not in people:
                continue
            for _ in range(index - at):
                labeller.press("ArrowRight")
            at = index
            for person in people[second]:
                labeller.box(person)
                labeller.press(keys[plan[(video, person, second)]])
            labeller.settle()


def suggestion_fixes(seconds: Sequence[int], truth: Sequence[int], accepted: Sequence[Tuple[int, ...]]) -> List[int]:
    """The seconds at which ``label_with_suggestions`` clicks an action lane to correct one track: in time order,
    the first box whose labels are not its one true action, then the page's default span from there (to where
    the labels change) gets that action; again until every box is right. ``accepted``: the labels after
    accepting the suggestions (pose actions, which replace each other)."""
    labels = list(accepted)
    clicks = []
    while True:
        wrong = [i for i in range(len(seconds)) if labels[i] != (truth[i],)]
        if not wrong:
            return clicks
        i = j = wrong[0]
        while j + 1 < len(labels) and labels[j + 1] == labels[i]:
            j += 1
        labels[i:j + 1] = [(truth[i],)] * (j + 1 - i)
        clicks.append(seconds[i])


def label_with_suggestions(labeller: Labeller, tracks: Tracks, plan: Plan, suggestions: Suggestions) -> None:
    """Accept a model's suggestions video by video (Shift+Space), then correct each track the model got wrong
    anywhere: select it (a click on its row), then one click on an action lane per ``suggestion_fixes``."""
    for number, video in enumerate(sorted(tracks)):
        if number:
            labeller.next_video(video)
        labeller.press("Shift+ ")
        labeller.settle()
        for person, seconds in tracks[video].items():
            truth = [plan[(video, person, s)] for s in seconds]
            accepted = [suggestions.get((video, person, s), ()) for s in seconds]
            fixes = suggestion_fixes(seconds, truth, accepted)
            if fixes:
                labeller.row(person)
            for second in fixes:
                labeller.lane(person, plan[(video, person, second)], second)
                labeller.settle()


def suggestions_count(tracks: Tracks, plan: Plan, suggestions: Suggestions) -> int:
    """What ``label_with_suggestions`` counts: a key per video to go on to it (after the first), a key per video
    to accept, and per wrong track a click on its row and one per fix."""
    count = 2 * len(tracks) - 1
    for video, people in tracks.items():
        for person, seconds in people.items():
            fixes = suggestion_fixes(seconds, [plan[(video, person, s)] for s in seconds],
                                     [suggestions.get((video, person, s), ()) for s in seconds])
            count += len(fixes) + (1 if fixes else 0)
    return count


def box_by_box_count(tracks: Tracks, keyframes: Dict[str, List[int]]) -> int:
    """What ``label_box_by_box`` counts, without the browser: the mode key, a key per video after the first,
    one key per keyframe stepped over, and a click and a key per box."""
    count = len(tracks)
    for video, people in tracks.items():
        seconds = sorted({s for track in people.values() for s in track})
        positions = [keyframes[video].index(s) for s in seconds]
        count += positions[-1] if positions else 0
        count += 2 * sum(len(track) for track in people.values())
    return count


def count_runs(tracks: Tracks, plan: Plan) -> int:
    """Runs of one action along the tracks: what a person labels by track span."""
    runs = 0
    for video, people in tracks.items():
        for person, seconds in people.items():
            actions = [plan[(video, person, s)] for s in seconds]
            runs += 1 + sum(a != b for a, b in zip(actions, actions[1:]))
    return runs


def track_span_count(tracks: Tracks, plan: Plan, auto_next: bool = False, lanes: bool = False) -> int:
    """What ``label_by_track`` counts, without the browser: a key per video after the first and two per run,
    but with ``auto_next`` (one key to turn it on) one for the first run of each track after a video's first,
    and with ``lanes`` one for every later run of a track."""
    runs = count_runs(tracks, plan)
    count = 2 * runs + len(tracks) - 1
    if auto_next:
        count += 1 - sum(len(people) - 1 for people in tracks.values())
    if lanes:
        count -= runs - sum(len(people) for people in tracks.values())
    return count


def tracks_of(boxes: Iterable) -> Tracks:
    """``{video: {person: [seconds]}}``, persons in the order of the timeline (first second, then id)."""
    tracks: Tracks = {}
    for b in boxes:
        tracks.setdefault(b.video, {}).setdefault(b.person, []).append(b.second)
    return {video: dict(sorted(((p, sorted(s)) for p, s in people.items()), key=lambda ps: (ps[1][0], ps[0])))
            for video, people in tracks.items()}
