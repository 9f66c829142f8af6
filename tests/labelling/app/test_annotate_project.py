"""The labelling project: changes, undo/redo, and that every change is on disk when it returns."""

import json

import pytest

from slowfast_custom.errors import DataError
from slowfast_custom.labelling.app import project as project_module
from slowfast_custom.labelling.app.project import PROJECT_NAME, ChangeError, Project

from annotate_helpers import make_dataset


@pytest.fixture
def project(tmp_path):
    return Project.load(make_dataset(tmp_path) / PROJECT_NAME)


def labels(project, video, person):
    return {b.second: b.actions for b in project.track(video, person)}


def reloaded(project):
    return Project.load(project.path)


def test_label_span_then_override_one_keyframe(project):
    assert project.label("alpha", 1, 1, 8, [2]) == 8
    assert project.label("alpha", 1, 5, 5, [1, 3]) == 1
    expected = {s: (2,) for s in range(1, 9)}
    expected[5] = (1, 3)
    assert labels(project, "alpha", 1) == expected
    assert labels(reloaded(project), "alpha", 1) == expected
    assert labels(project, "alpha", 2) == {s: () for s in range(1, 5)}  # other tracks untouched


def test_every_change_is_saved_before_it_returns(project):
    project.label("beta", 1, 2, 3, [1])
    on_disk = json.loads(project.path.read_text())
    assert on_disk["revision"] == project.revision == 1
    assert [b["actions"] for b in on_disk["boxes"] if b["video"] == "beta"][:3] == [[1], [1], []]


def test_move_add_delete(project):
    uid = project.track("alpha", 1)[0].uid
    project.set_box(uid, (0.0, 0.0, 0.5, 0.5))
    new = project.add_box("alpha", 3, (0.8, 0.1, 0.95, 0.6))
    assert (new.person, new.source) == (4, "user")  # a new id, after the highest of the video
    assert project.delete("alpha", 2, 3, 4) == 2
    again = reloaded(project)
    assert again.boxes[uid].box == (0.0, 0.0, 0.5, 0.5)
    assert again.boxes[new.uid].box == (0.8, 0.1, 0.95, 0.6)
    assert [b.second for b in again.track("alpha", 2)] == [1, 2]


def test_merge_and_split(project):
    project.label("alpha", 3, 5, 8, [2])
    assert project.merge("alpha", keep=2, absorb=3) == 4
    assert labels(project, "alpha", 2) == {1: (), 2: (), 3: (), 4: (), 5: (2,), 6: (2,), 7: (2,), 8: (2,)}
    assert project.track("alpha", 3) == []
    assert project.split("alpha", 2, 6) == 4  # a new id, not the freed 3 (ids are never reused within an edit)
    assert [b.second for b in project.track("alpha", 4)] == [6, 7, 8]


def test_merge_refuses_tracks_that_overlap(project):
    with pytest.raises(ChangeError, match=r"persons 1 and 2 both have a box at second\(s\) 1, 2, 3, 4") as err:
        project.merge("alpha", 1, 2)
    assert err.value.status == 409 and project.revision == 0


def test_split_needs_boxes_on_both_sides(project):
    with pytest.raises(ChangeError, match="nothing to split"):
        project.split("alpha", 1, 1)


def test_undo_and_redo_survive_a_restart(project):
    project.label("alpha", 1, 1, 8, [2])
    project.merge("alpha", 2, 3)
    project.delete("beta", 1, 2, 2)
    after = labels(project, "alpha", 1)
    project = reloaded(project)
    assert project.undo() == "delete person 1 at 2 s"
    assert len(project.track("beta", 1)) == 5
    project = reloaded(project)
    assert project.undo() == "merge person 3 into 2"
    assert len(project.track("alpha", 3)) == 4
    assert project.redo() == "merge person 3 into 2"
    project = reloaded(project)
    assert project.track("alpha", 3) == [] and labels(project, "alpha", 1) == after
    assert project.state()["redo"] == "delete person 1 at 2 s"
    project.label("beta", 1, 3, 3, [3])  # a new change drops what could be redone
    assert project.state()["redo"] is None
    with pytest.raises(ChangeError, match="nothing to redo"):
        project.redo()


def test_a_change_that_cannot_be_saved_did_not_happen(project, monkeypatch):
    before = project.path.read_text()

    def disk_full(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_module, "atomic_write_text", disk_full)
    with pytest.raises(OSError):
        project.label("alpha", 1, 1, 8, [2])
    assert project.revision == 0 and labels(project, "alpha", 1)[1] == () and project.state()["undo"] is None
    monkeypatch.undo()
    assert project.path.read_text() == before


def test_undo_history_is_bounded(project, monkeypatch):
    monkeypatch.setattr(project_module, "MAX_UNDO", 3)
    for second in range(1, 6):
        project.label("alpha", 1, second, second, [1])
    for _ in range(3):
        project.undo()
    with pytest.raises(ChangeError, match="nothing to undo"):
        project.undo()
    assert labels(project, "alpha", 1)[2] == (1,) and labels(project, "alpha", 1)[3] == ()


@pytest.mark.parametrize("call, message", [
    (lambda p: p.label("gamma", 1, 1, 2, [1]), "unknown video 'gamma'"),
    (lambda p: p.label("alpha", 9, 1, 2, [1]), "video alpha has no person 9"),
    (lambda p: p.label("alpha", 1, 5, 2, [1]), "ends before it starts"),
    (lambda p: p.label("alpha", 2, 6, 8, [1]), "person 2 of video alpha has no box in 6-8 s"),
    (lambda p: p.label("alpha", 1, 1, 2, [7]), r"unknown action id\(s\) \[7\]"),
    (lambda p: p.set_box(999, (0.1, 0.1, 0.2, 0.2)), "no box with uid 999"),
    (lambda p: p.add_box("alpha", 0, (0.1, 0.1, 0.2, 0.2)), "second 0 is not a keyframe of video alpha"),
    (lambda p: p.merge("alpha", 2, 2), "with itself"),
    (lambda p: p.check_revision(5), "at revision 0, this page showed 5"),
])
def test_bad_changes_say_what_is_wrong(project, call, message):
    with pytest.raises(ChangeError, match=message):
        call(project)
    assert project.revision == 0


def test_a_damaged_project_file_names_itself(tmp_path):
    path = make_dataset(tmp_path) / PROJECT_NAME
    text = path.read_text()
    path.write_text(text.replace('"box": [0.1, 0.2, 0.3, 0.9]', '"box": [0.3, 0.2, 0.1, 0.9]', 1))
    with pytest.raises(DataError, match=r"annotate_project.json: malformed project file: box .* is empty or inverted"):
        Project.load(path)
    path.write_text(text[:-10])
    with pytest.raises(DataError, match="not valid JSON"):
        Project.load(path)


def test_accepting_suggestions_labels_the_span_or_the_video_in_one_step(project):
    uids = {(b.video, b.person, b.second): b.uid for b in project.boxes.values()}
    suggestions = {uids[("alpha", 1, s)]: (2,) for s in range(1, 9)}
    suggestions[uids[("alpha", 1, 5)]] = (2, 3)
    suggestions.update({uids[("alpha", 2, s)]: (1,) for s in (1, 2)})  # seconds 3 and 4 have none
    assert project.accept("alpha", 1, 3, 8, suggestions) == 6
    assert labels(project, "alpha", 1) == {1: (), 2: (), 3: (2,), 4: (2,), 5: (2, 3), 6: (2,), 7: (2,), 8: (2,)}
    assert project.undo_stack[-1]["what"] == "accept the suggestions for person 1 in 3-8 s"
    # The whole video: unlabelled boxes only (person 1's labels stay), boxes without a suggestion untouched.
    project.label("alpha", 1, 3, 3, [1])
    assert project.accept("alpha", None, 1, 8, suggestions) == 4
    assert labels(project, "alpha", 1)[3] == (1,) and labels(project, "alpha", 1)[1] == (2,)
    assert labels(project, "alpha", 2) == {1: (1,), 2: (1,), 3: (), 4: ()}
    project.undo()
    assert labels(reloaded(project), "alpha", 2) == {s: () for s in range(1, 5)}
    with pytest.raises(ChangeError, match=r"unknown action id\(s\) \[9\]"):
        project.accept("beta", 1, 2, 6, {uids[("beta", 1, 2)]: (9,)})


def test_a_drawn_box_continues_the_track_it_overlaps(project):
    # beta's person 1 has boxes at seconds 2-6 at (0.4, 0.1, 0.6, 0.8); redrawn at 7, slightly moved, it stays person 1.
    joined = project.add_box("beta", 7, (0.42, 0.1, 0.62, 0.8))
    assert (joined.person, joined.source) == (1, "user")
    assert [b.second for b in reloaded(project).track("beta", 1)] == [2, 3, 4, 5, 6, 7]
    # a box that overlaps no track near in time, or only tracks that already have a box then, is a new person
    assert project.add_box("alpha", 5, (0.1, 0.2, 0.3, 0.9)).person == 4  # person 1 is at second 5 already
    assert project.add_box("beta", 1, (0.8, 0.1, 0.95, 0.6)).person == 2  # overlaps nothing: beta's next id
    assert project.add_box("beta", 8, (0.7, 0.1, 0.9, 0.6)).person == 3  # beta's 1 ends at 6, elsewhere


def test_a_drawn_box_joins_the_best_overlapping_of_two_tracks(project):
    # alpha's person 2 ends at second 4, person 3 (the same walker, split by the tracker) begins at 5: a box drawn
    # at 5 where person 2 was joins person 2 (person 3 has a box there already).
    assert project.add_box("alpha", 5, (0.5, 0.2, 0.7, 0.9)).person == 2
    project.undo()
    assert project.track("alpha", 2)[-1].second == 4
