"""The labelling app in a real browser: label by span and by keyframe, fix a box, merge, survive a killed
server, undo, export, and check the AVA files to the byte."""

import json

import pytest

from benchmarks.browser import (
    AppServer,
    Labeller,
    box_by_box_count,
    label_box_by_box,
    label_by_track,
    open_page,
    suggestion_fixes,
    track_span_count,
    tracks_of,
)
from slowfast_custom.ava.naming import frame_relpath
from slowfast_custom.labelling.app.project import PROJECT_NAME, Project
from slowfast_custom.labelling.app.workflow import write_suggestions

from annotate_helpers import FPS, SECONDS, make_dataset
from annotate_page import browser  # noqa: F401  (a fixture)

ANNOTATIONS = "annotations"


@pytest.fixture
def server(tmp_path):
    app = AppServer(make_dataset(tmp_path / "data"), tmp_path / "server.log").start()
    yield app
    app.kill()


def saved_labels(dataset):
    """``{(video, person, second): actions}`` as saved in the project file."""
    project = Project.load(dataset / PROJECT_NAME)
    return {(b.video, b.person, b.second): b.actions for b in project.boxes.values()}


def row(video, second, box, action, person):
    return f"{video},{second:04d},{box[0]:.3f},{box[1]:.3f},{box[2]:.3f},{box[3]:.3f},{action},{person}\n"


def frame_list(video):
    return "original_vido_id video_id frame_id path labels\n" + "".join(
        f'{video} 0 {i} {frame_relpath(video, i + 1)} ""\n' for i in range(SECONDS * FPS))


def test_label_fix_merge_survive_a_killed_server_and_export(browser, server):
    page = open_page(browser, server.url)
    lab = Labeller(page)

    # Person 1 walks all along: one click on the first keyframe of the track, one key.
    lab.cell(1, 1)
    lab.press("2")
    lab.settle()
    assert (page.input_value("#span-first"), page.input_value("#span-last")) == ("1", "8")
    # At 5 s the person also talks: that keyframe only.
    lab.cell(1, 5)
    lab.press(".")
    lab.press("3")
    lab.settle()
    labels = saved_labels(server.dataset)
    assert [labels[("alpha", 1, s)] for s in range(1, 9)] == [(2,)] * 4 + [(2, 3)] + [(2,)] * 3

    # Box fixes: move person 2's box at 2 s, resize person 1's at 3 s (96 px of the 768 px wide image is 1/8).
    assert page.locator("#frame").bounding_box()["width"] == 768
    lab.cell(2, 2)
    lab.drag("#boxes .box[data-person='2']", 96, -72)
    lab.settle()
    lab.cell(1, 3)
    lab.drag("#boxes .box[data-person='1'] .handle.se", 96, -72)
    lab.settle()

    # The tracker split one person into 2 and 3: merge 3 into 2, then label the whole merged track.
    lab.row(2)
    lab.press("m")
    lab.row(3)
    lab.settle()
    assert page.locator("#tracks tr[data-person='3']").count() == 0
    lab.cell(2, 1)
    lab.press("1")
    lab.settle()
    assert "Saved: revision 6" in lab.status()
    acknowledged = saved_labels(server.dataset)
    assert {acknowledged[("alpha", 2, s)] for s in range(1, 9)} == {(1,)}

    # The server dies; a change made meanwhile waits in the page and goes through once it is back.
    server.kill()
    lab.choose_video("beta")
    lab.cell(1, 2)
    lab.press("3")
    page.wait_for_selector("#status:has-text('Server unreachable')")
    server.start()
    lab.settle()
    assert "Saved: revision 7" in lab.status()
    labels = saved_labels(server.dataset)
    assert {k: v for k, v in labels.items() if k[0] == "alpha"} == {k: v for k, v in acknowledged.items()
                                                                    if k[0] == "alpha"}
    assert [labels[("beta", 1, s)] for s in range(2, 7)] == [(3,)] * 5

    # Closing the browser loses nothing either: a new page shows the same labels.
    page.close()
    page = open_page(browser, server.url)
    lab = Labeller(page)
    assert page.inner_text("#tracks tr[data-person='1'] td[data-second='5']") == "23"
    assert page.get_attribute("body", "data-revision") == "7"

    page.fill("#val-videos", "beta")
    page.click("#export-button")
    lab.settle()
    assert lab.status().startswith("Exported 21 labelled boxes"), lab.status()
    assert page.errors == []

    person1 = {s: (0.1, 0.2, 0.3, 0.9) for s in range(1, 9)}
    person1[3] = (0.1, 0.2, 0.425, 0.775)
    person2 = {s: (0.5, 0.2, 0.7, 0.9) for s in range(1, 5)}
    person2[2] = (0.625, 0.075, 0.825, 0.775)
    person2.update({s: (0.55, 0.2, 0.75, 0.9) for s in range(5, 9)})
    train = ""
    for s in range(1, 9):
        train += row("alpha", s, person1[s], 2, 1) + (row("alpha", s, person1[s], 3, 1) if s == 5 else "")
        train += row("alpha", s, person2[s], 1, 2)
    ann = server.dataset / ANNOTATIONS
    assert (ann / "ava_train_v2.2.csv").read_text() == train
    assert (ann / "ava_val_v2.2.csv").read_text() == "".join(row("beta", s, (0.4, 0.1, 0.6, 0.8), 3, 1)
                                                            for s in range(2, 7))
    assert (ann / "ava_val_predicted_boxes.csv").read_text() == "".join(
        f"beta,{s:04d},0.400,0.100,0.600,0.800,,1\n" for s in range(2, 7))
    assert (ann / "ava_action_list_v2.2_for_activitynet_2019.pbtxt").read_text() == (
        'item {\n  name: "stand"\n  id: 1\n  label_type: PERSON_MOVEMENT\n}\n'
        'item {\n  name: "walk"\n  id: 2\n  label_type: PERSON_MOVEMENT\n}\n'
        'item {\n  name: "talk"\n  id: 3\n  label_type: PERSON_INTERACTION\n}\n')  # the types are kept
    assert json.loads((ann / "ava.json").read_text()) == {"stand": 0, "walk": 1, "talk": 2}
    assert (ann / "ava_train_excluded_timestamps_v2.2.csv").read_text() == ""
    assert (ann / "ava_val_excluded_timestamps_v2.2.csv").read_text() == ""
    assert (server.dataset / "frame_lists" / "train.csv").read_text() == frame_list("alpha")
    assert (server.dataset / "frame_lists" / "val.csv").read_text() == frame_list("beta")


def test_undo_redo_add_delete_split_in_the_page(browser, server):
    page = open_page(browser, server.url)
    lab = Labeller(page)
    lab.cell(1, 1)
    lab.press("2")
    lab.settle()
    lab.press("u")
    lab.settle()
    assert saved_labels(server.dataset)[("alpha", 1, 4)] == ()
    lab.press("Shift+U")
    lab.settle()
    assert saved_labels(server.dataset)[("alpha", 1, 4)] == (2,)
    lab.press("Control+z")
    lab.settle()
    assert saved_labels(server.dataset)[("alpha", 1, 4)] == ()

    # Split person 1 at 6 s: the later boxes become person 4 (the next free id), which is then selected.
    lab.cell(1, 6)
    lab.press("x")
    lab.settle()
    assert sorted(s for (v, p, s) in saved_labels(server.dataset) if (v, p) == ("alpha", 4)) == [6, 7, 8]
    assert page.get_attribute("#tracks tr.selected", "data-person") == "4"

    # Draw a box for someone the tracker missed: a new person; delete one keyframe of person 2.
    lab.press("n")
    stage = page.locator("#boxes").bounding_box()
    x, y = round(stage["x"] + 0.8 * stage["width"]), round(stage["y"] + 0.1 * stage["height"])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y + 100)
    page.mouse.up()
    lab.settle()
    assert [k for k in saved_labels(server.dataset) if k[:2] == ("alpha", 5)] == [("alpha", 5, 6)]
    lab.cell(2, 3)
    lab.press("Delete")
    lab.settle()
    assert ("alpha", 2, 3) not in saved_labels(server.dataset)
    assert page.errors == []


def test_track_spans_and_box_by_box_label_alike_and_are_counted_right(browser, tmp_path):
    """The measure's scripted sessions on the small dataset: same labels; the counts the measure uses."""
    plan = {}
    for video, person, seconds, actions in [("alpha", 1, range(1, 9), [2] * 4 + [1] * 4),
                                            ("alpha", 2, range(1, 5), [3] * 4), ("alpha", 3, range(5, 9), [3] * 4),
                                            ("beta", 1, range(2, 7), [2] * 5)]:
        plan.update({(video, person, s): a for s, a in zip(seconds, actions)})
    keys = {1: "1", 2: "2", 3: "3"}
    results = {}
    for session in ("track", "auto", "lanes", "box"):
        app = AppServer(make_dataset(tmp_path / session), tmp_path / f"{session}.log").start()
        try:
            project = Project.load(app.dataset / PROJECT_NAME)
            tracks = tracks_of(project.boxes.values())
            lab = Labeller(open_page(browser, app.url))
            if session == "box":
                label_box_by_box(lab, tracks, plan, keys, project.videos)
                assert lab.actions == box_by_box_count(tracks, project.videos) == 1 + 7 + 2 * 16 + 1 + 5 + 2 * 5
            else:
                auto, lanes = session in ("auto", "lanes"), session == "lanes"
                label_by_track(lab, tracks, plan, keys, auto_next=auto, lanes=lanes)
                # 5 runs, 2 actions each, and PageDown to the next video; auto: 1 key to turn it on, 2 tracks got
                # by it; lanes: person 1's second run is one click on the lane of the track auto-advance just left
                assert lab.actions == track_span_count(tracks, plan, auto, lanes) == {"track": 11, "auto": 10,
                                                                                      "lanes": 9}[session]
            lab.settle()
            assert lab.page.errors == []
            results[session] = saved_labels(app.dataset)
        finally:
            app.kill()
    assert results["track"] == results["auto"] == results["lanes"] == results["box"] == {k: (a,) for k, a in
                                                                                          plan.items()}


def test_suggestions_are_accepted_with_space_and_lanes_change_an_action_in_one_click(browser, tmp_path):
    dataset = make_dataset(tmp_path / "data")
    project = Project.load(dataset / PROJECT_NAME)
    uids = {(b.video, b.person, b.second): b.uid for b in project.boxes.values()}
    suggestions = {uids[("alpha", 1, s)]: (2,) for s in range(1, 9)}  # walk, right
    suggestions.update({uids[("alpha", 2, s)]: (1, 3) for s in range(1, 5)})  # stand + talk, to be corrected
    suggestions.update({uids[("beta", 1, s)]: (1,) for s in range(2, 7)})
    write_suggestions(dataset, "model.pyth", suggestions)  # what --model writes; later runs show it
    app = AppServer(dataset, tmp_path / "server.log").start()
    try:
        page = open_page(browser, app.url)
        lab = Labeller(page)
        # Shown, but not labels: italic keys in the cells, "?" on the image, nothing in the project file.
        assert page.inner_text("#tracks tr[data-person='2'] td[data-second='3']") == "13"
        assert "suggested" in page.get_attribute("#tracks tr[data-person='1'] td[data-second='1']", "class")
        assert not any(saved_labels(dataset).values())

        lab.cell(1, 1)
        assert page.inner_text("#boxes .box[data-person='1'] .tag") == "1 walk?"
        lab.press(" ")  # the whole track, as suggested
        lab.settle()
        # Person 2 does not talk: accept, then one click on the talk lane at 1 s takes it off to the track's end.
        lab.cell(2, 1)
        lab.press(" ")
        lab.settle()
        lab.lane(2, 3, 1)
        lab.settle()
        # Then stand -> walk from 3 s: one click on the walk lane.
        lab.lane(2, 2, 3)
        lab.settle()
        lab.choose_video("beta")
        lab.press("Shift+ ")  # every unlabelled box of the video
        lab.settle()
        assert lab.status() == "Accepted the suggestions for 5 boxes"
        assert page.errors == []
    finally:
        app.kill()
    labels = saved_labels(dataset)
    assert [labels[("alpha", 1, s)] for s in range(1, 9)] == [(2,)] * 8
    assert [labels[("alpha", 2, s)] for s in range(1, 5)] == [(1,), (1,), (2,), (2,)]
    assert {labels[("beta", 1, s)] for s in range(2, 7)} == {(1,)}
    assert lab.actions == 2 + 2 + 1 + 1 + 2 + 1


def test_the_lane_clicks_that_correct_accepted_suggestions():
    seconds = [1, 2, 3, 4, 5, 6]
    assert suggestion_fixes(seconds, [1] * 6, [(1,)] * 6) == []
    # All wrong alike: one click from the first box to where the labels change (the end).
    assert suggestion_fixes(seconds, [1] * 6, [(2,)] * 6) == [1]
    # Wrong in the middle: the click at 3 s runs to the end (the labels do not change before), so 5 s needs another.
    assert suggestion_fixes(seconds, [1, 1, 2, 2, 1, 1], [(1,), (1,), (1,), (1,), (1,), (1,)]) == [3, 5]
    # A box without a suggestion is a wrong one too; the default span of an unlabelled box is that run of them.
    assert suggestion_fixes(seconds, [3] * 6, [(3,), (), (), (3,), (3,), (2,)]) == [2, 6]
