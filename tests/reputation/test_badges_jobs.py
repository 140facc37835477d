"""Badges are evaluated in jobs: activity queues one debounced evaluation per project,
awards are announced (in-app and by email, as the user prefers), plugins add rules, and the
demo hands out what its users earned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum import events
from forum.hookspecs import BadgeContext, BadgeRule, hookimpl
from forum.jobs.models import Job, JobState
from forum.notifications.models import Notification, NotificationKind, NotificationPreference
from forum.notifications.service import describe, post_url
from forum.platform import Platform, build_platform
from forum.plugins import PluginManager
from forum.projects.models import ProjectPlugin
from forum.reputation import badges, badges_plugin
from forum.reputation.badges import (
    EVALUATE_JOB,
    BadgeAward,
    BadgeFact,
    BadgeSweep,
    evaluate_project,
    registered_rules,
)
from forum.settings import Settings
from forum.topics.models import Post
from tests.factories import add_member, make_project, make_user
from tests.reputation.badge_data import question, set_score
from tests.support import Login
from tests.topics.read_data import make_category

pytestmark = pytest.mark.usefixtures("db")

RunJobs = Any


def vote_event(post: Post, project_id: int, voter_id: int) -> events.VoteCast:
    return events.VoteCast(project=project_id, topic_id=post.topic_id,  # type: ignore[attr-defined]
                           post_id=post.id, post_author_id=post.author_id,  # type: ignore[attr-defined]
                           voter_id=voter_id, old_value=0, new_value=1, is_question=False)


async def make_evaluations_due() -> None:
    await Job.filter(name=EVALUATE_JOB, state=JobState.QUEUED).update(
        run_at=datetime.now(UTC) - timedelta(seconds=1))


async def test_activity_queues_one_debounced_evaluation(platform: Platform,
                                                        run_jobs: RunJobs) -> None:
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    _, posts = await question(project, await make_category(project), asker,
                              answerers=[helper])
    await set_score(posts[1], 10)
    for _ in range(3):
        await platform.emit(vote_event(posts[1], project.id, asker.id))
    jobs = await Job.filter(name=EVALUATE_JOB)
    assert len(jobs) == 1
    assert jobs[0].kwargs == {"project_id": project.id}
    assert jobs[0].run_at > datetime.now(UTC) + timedelta(seconds=10)
    await run_jobs()  # the other domains' jobs; this one is not due yet
    assert await Job.filter(name=EVALUATE_JOB, state=JobState.QUEUED).count() == 1
    assert await BadgeAward.all().count() == 0
    await make_evaluations_due()
    await run_jobs()
    assert ("nice-answer", helper.id) in [
        (a.badge, a.user_id) for a in await BadgeAward.all()]  # type: ignore[attr-defined]
    sweep = await BadgeSweep.get(project_id=project.id)
    assert not sweep.pending and sweep.last_run_at is not None
    # The next activity asks for a new evaluation.
    await platform.emit(events.PostCreated(project=project.id, topic_id=posts[0].topic_id,  # type: ignore[attr-defined]
                                           post_id=posts[1].id, author_id=helper.id,
                                           number=2, reply_to_post_id=None))
    assert await Job.filter(name=EVALUATE_JOB, state=JobState.QUEUED).count() == 1


async def test_retagging_is_remembered_for_organizer(platform: Platform) -> None:
    asker, editor = await make_user(), await make_user()
    project = await make_project(owner=asker)
    topic, _ = await question(project, await make_category(project), asker)
    await platform.emit(events.TopicChanged(project=project.id, topic_id=topic.id,
                                            actor_id=editor.id, change="pinned"))
    assert await BadgeFact.all().count() == 0
    await platform.emit(events.TopicChanged(project=project.id, topic_id=topic.id,
                                            actor_id=editor.id, change="tags"))
    assert [(f.user_id, f.kind, f.ref_id) for f in await BadgeFact.all()] == [  # type: ignore[attr-defined]
        (editor.id, "retag", topic.id)]
    assert ("organizer", editor.id) in [
        (a.badge, a.user_id) for a in await evaluate_project(platform, project.id)]  # type: ignore[attr-defined]


async def test_earning_a_badge_notifies_and_emails(platform: Platform, run_jobs: RunJobs,
                                                   mailbox: Any) -> None:
    asker, helper = await make_user(), await make_user("helper")
    project = await make_project(owner=asker)
    _, posts = await question(project, await make_category(project), asker,
                              answerers=[helper])
    await set_score(posts[1], 10)
    await platform.emit(vote_event(posts[1], project.id, asker.id))
    await make_evaluations_due()
    await run_jobs()
    notes = await Notification.filter(user_id=helper.id,
                                      kind=NotificationKind.BADGE_AWARDED).order_by("id")
    summaries = sorted(describe(n) for n in notes)
    assert "You earned the Nice Answer badge" in summaries
    nice = next(n for n in notes if n.data["badge"] == "nice-answer")
    assert post_url(nice) == f"/p/{project.slug}/badges/nice-answer"
    assert await Notification.filter(user_id=asker.id).count() == 0
    subjects = [str(m["Subject"]) for m in mailbox()]
    assert f"[{project.name}] You earned the Nice Answer badge" in subjects
    assert all(m["To"] == helper.email for m in mailbox())
    # A job that runs twice notifies once.
    award = await BadgeAward.get(badge="nice-answer")
    await platform.enqueue("notifications.badge_awarded", user_id=helper.id,
                           project_id=project.id, badge="nice-answer",
                           badge_name="Nice Answer", level="bronze", award_id=award.id)
    await run_jobs()
    assert await Notification.filter(user_id=helper.id,
                                     kind=NotificationKind.BADGE_AWARDED).count() == len(notes)


async def test_badge_email_respects_the_preference(platform: Platform, run_jobs: RunJobs,
                                                   mailbox: Any) -> None:
    asker, helper = await make_user(), await make_user()
    await NotificationPreference.create(user=helper, email_badges=False)
    project = await make_project(owner=asker)
    _, posts = await question(project, await make_category(project), asker,
                              answerers=[helper])
    await set_score(posts[1], 1)
    await platform.emit(vote_event(posts[1], project.id, asker.id))
    await make_evaluations_due()
    await run_jobs()
    assert await Notification.filter(user_id=helper.id,
                                     kind=NotificationKind.BADGE_AWARDED).count() == 1
    assert mailbox() == []


class WelcomeBadges:
    """A plugin that adds badges: one that works, one whose rule crashes."""

    PLUGIN_NAME = "welcome_badges"

    @hookimpl
    def forum_badge_rules(self) -> list[BadgeRule]:
        return [BadgeRule("welcomer", "Welcomer", "Answered someone.", "gold", self.welcomers),
                BadgeRule("broken", "Broken", "Never works.", "bronze", self.broken),
                # A slug the core already uses: the core's rule stays.
                BadgeRule("teacher", "Fake Teacher", "Anyone.", "gold", self.welcomers)]

    async def welcomers(self, ctx: BadgeContext) -> list[int]:
        rows = await Post.filter(topic__project_id=ctx.project_id, number__gt=1
                                 ).values_list("author_id", flat=True)
        return [int(str(r)) for r in rows]

    async def broken(self, ctx: BadgeContext) -> list[int]:
        raise RuntimeError("a bug in a plugin")


async def test_a_plugin_adds_badges_where_it_is_enabled(settings: Settings) -> None:
    from tests.plugins import sample_plugin

    platform = build_platform(settings, PluginManager(
        extra=[sample_plugin, WelcomeBadges()], load_entry_points=False))
    asker, helper = await make_user(), await make_user()
    project = await make_project(owner=asker)
    _, posts = await question(project, await make_category(project), asker,
                              answerers=[helper])
    await set_score(posts[1], 1)
    awarded = [(a.badge, a.user_id) for a in await evaluate_project(platform, project.id)]  # type: ignore[attr-defined]
    assert awarded == [("teacher", helper.id)]
    assert registered_rules(platform)["teacher"].rule.name == "Teacher"
    assert registered_rules(platform)["welcomer"].plugin == "welcome_badges"
    await ProjectPlugin.create(project=project, name="welcome_badges")
    awarded = [(a.badge, a.user_id, a.level)  # type: ignore[attr-defined]
               for a in await evaluate_project(platform, project.id)]
    # The broken rule is skipped; the plugin's other badge and the core's still work.
    assert awarded == [("welcomer", helper.id, "gold")]
    assert await evaluate_project(platform, project.id) == []


async def test_demo_awards_badges_once(platform: Platform) -> None:
    from forum.projects.demo import seed_demo

    first = await seed_demo(platform)
    count = await BadgeAward.all().count()
    assert count > 0
    assert f"{count} badges" in first.created
    assert {"teacher", "student", "supporter"} <= set(
        await BadgeAward.all().values_list("badge", flat=True))
    # Seeding again awards nothing new (the hook alone: the whole demo is slow).
    project_id = int(str((await BadgeAward.first()).project_id))  # type: ignore[union-attr]
    assert await badges_plugin.forum_demo(platform, project_id, {}) == []
    assert await BadgeAward.all().count() == count


async def test_from_answer_to_badge_through_the_api(
        client: httpx.AsyncClient, login: Login, run_jobs: RunJobs,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(badges, "EVALUATION_DELAY", timedelta(0))
    owner, helper = await make_user("owner"), await make_user("helper")
    project = await make_project(owner=owner)
    await add_member(project, helper)
    category = await make_category(project)
    await login(owner)
    created = await client.post(f"/api/v1/projects/{project.slug}/topics", json={
        "title": "How do I configure the widget?", "category_id": category.id,
        "source": "I tried everything, any idea?"})
    assert created.status_code == 201, created.text
    topic_id = created.json()["id"]
    await login(helper)
    answer = await client.post(f"/api/v1/topics/{topic_id}/posts",
                               json={"source": "Set the flag in the options."})
    assert answer.status_code == 201, answer.text
    await run_jobs()
    assert await BadgeAward.all().count() == 0  # nothing earned yet
    await login(owner)
    voted = await client.post(f"/api/v1/posts/{answer.json()['id']}/vote", json={"value": 1})
    assert voted.status_code == 200, voted.text
    accepted = await client.post(f"/api/v1/topics/{topic_id}/accept",
                                 json={"post_id": answer.json()["id"]})
    assert accepted.status_code == 200, accepted.text
    await run_jobs()
    profile = (await client.get(f"/api/v1/projects/{project.slug}/users/helper")).json()
    assert sorted(b["slug"] for b in profile["badges"]) == ["helper", "teacher"]
    asker = (await client.get(f"/api/v1/projects/{project.slug}/users/owner")).json()
    assert sorted(b["slug"] for b in asker["badges"]) == ["scholar", "supporter"]
    await login(helper)
    mine = (await client.get("/api/v1/notifications")).json()["notifications"]
    badge_notes = sorted((n["summary"], n["url"]) for n in mine
                         if n["kind"] == "badge_awarded")
    assert badge_notes == [
        ("You earned the Helper badge", f"/p/{project.slug}/badges/helper"),
        ("You earned the Teacher badge", f"/p/{project.slug}/badges/teacher")]
    # The bell's list shows it and opening it leads to the badge's page.
    page = await client.get("/notifications")
    assert "You earned the Teacher badge" in page.text
    note = next(n for n in mine if n["summary"] == "You earned the Teacher badge")
    opened = await client.get(f"/notifications/{note['id']}/open")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/p/{project.slug}/badges/teacher"
    prefs = await client.get("/notifications/preferences")
    assert 'name="email_badges"' in prefs.text
