"""Who is notified of what, driven by the real events and the jobs they queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from forum import events
from forum.notifications.models import (
    CategoryWatch,
    Notification,
    NotificationKind,
    TopicWatch,
    WatchLevel,
)
from forum.projects.models import Project, Role, Visibility
from forum.topics.models import Access, Category
from tests.factories import add_member, make_user
from tests.notifications.conftest import Forum, kinds_of, notifications_of

RunJobs = Callable[[], Awaitable[int]]


async def test_event_hook_only_queues_a_job(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    await forum.reply(topic, forum.bob, mentions=(forum.carol,))
    assert await Notification.all().count() == 0  # nothing inline: it waits for the jobs
    assert await run_jobs() >= 2
    assert await kinds_of(forum.carol) == ["mentioned"]


async def test_mention_notifies_the_mentioned_user(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    post = await forum.reply(topic, forum.bob, mentions=(forum.owner,))
    await run_jobs()
    [notification] = await notifications_of(forum.owner)
    assert notification.kind == NotificationKind.MENTIONED
    assert notification.post_id == post.id  # type: ignore[attr-defined]
    assert notification.topic_id == topic.id  # type: ignore[attr-defined]
    assert notification.actor_id == forum.bob.id  # type: ignore[attr-defined]
    assert notification.read_at is None
    assert notification.data["actor"] == "bob"
    assert notification.data["post_number"] == 2


async def test_mention_and_quote_in_the_opening_post(forum: Forum, run_jobs: RunJobs) -> None:
    _, elsewhere = await forum.topic(forum.owner, emit=False)
    await forum.topic(forum.alice, source="Hello @Bob, as the owner said ...",
                      mentions=(forum.bob, forum.alice), quotes=(elsewhere,))
    await run_jobs()
    assert await kinds_of(forum.bob) == ["mentioned"]
    assert await kinds_of(forum.owner) == ["quoted"]
    assert await kinds_of(forum.alice) == []


async def test_reply_notifies_the_replied_to_author(forum: Forum, run_jobs: RunJobs) -> None:
    topic, opening = await forum.topic(forum.alice)
    answer = await forum.reply(topic, forum.bob)
    await forum.reply(topic, forum.owner, reply_to=answer)
    await run_jobs()
    assert await kinds_of(forum.alice) == ["replied"]  # the answer replied to her topic
    assert await kinds_of(forum.bob) == ["replied"]  # the owner replied to bob's answer
    [to_bob] = await notifications_of(forum.bob)
    assert to_bob.actor_id == forum.owner.id  # type: ignore[attr-defined]
    assert opening.number == 1


async def test_quote_notifies_the_quoted_author(forum: Forum, run_jobs: RunJobs) -> None:
    topic, opening = await forum.topic(forum.alice)
    answer = await forum.reply(topic, forum.bob)
    await run_jobs()
    await Notification.all().delete()
    await forum.reply(topic, forum.owner, reply_to=opening, quotes=(answer,))
    await run_jobs()
    assert await kinds_of(forum.bob) == ["quoted"]
    assert await kinds_of(forum.alice) == ["replied"]


async def test_mention_and_reply_give_one_notification_of_the_strongest_kind(
        forum: Forum, run_jobs: RunJobs) -> None:
    topic, opening = await forum.topic(forum.alice)
    await forum.watch(forum.alice, topic, WatchLevel.WATCHING)
    await forum.reply(topic, forum.bob, reply_to=opening, mentions=(forum.alice,),
                      quotes=(opening,))
    await run_jobs()
    assert await kinds_of(forum.alice) == ["mentioned"]


async def test_no_self_notification(forum: Forum, run_jobs: RunJobs) -> None:
    topic, opening = await forum.topic(forum.alice, source="Note to @alice: me")
    await forum.watch(forum.alice, topic, WatchLevel.WATCHING)
    await forum.reply(topic, forum.alice, reply_to=opening, mentions=(forum.alice,),
                      quotes=(opening,))
    await forum.vote(opening, forum.alice)
    await forum.accept(topic, opening, forum.alice)
    await run_jobs()
    assert await kinds_of(forum.alice) == []


async def test_mute_beats_mention(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _opening = await forum.topic(forum.alice)
    await forum.watch(forum.owner, topic, WatchLevel.MUTED)
    await forum.reply(topic, forum.bob, mentions=(forum.owner, forum.alice))
    await run_jobs()
    assert await kinds_of(forum.owner) == []
    assert await kinds_of(forum.alice) == ["mentioned"]


async def test_muted_category_mutes_its_topics(forum: Forum, run_jobs: RunJobs) -> None:
    await CategoryWatch.create(user=forum.alice, category=forum.questions,
                               level=WatchLevel.MUTED)
    topic, opening = await forum.topic(forum.alice)
    answer = await forum.reply(topic, forum.bob, reply_to=opening, mentions=(forum.alice,))
    await forum.vote(opening, forum.bob)
    await forum.accept(topic, answer, forum.owner)
    await run_jobs()
    assert await kinds_of(forum.alice) == []
    # Creating a topic in a muted category does not un-mute it.
    assert not await TopicWatch.exists(user_id=forum.alice.id, topic_id=topic.id)


async def test_private_topic_mention_does_not_reach_an_outsider(
        forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice, category=forum.security, private=True)
    await forum.reply(topic, forum.owner, mentions=(forum.bob, forum.carol, forum.alice))
    await run_jobs()
    assert await kinds_of(forum.bob) == []  # a member, but not the team nor the author
    assert await kinds_of(forum.carol) == []
    assert await kinds_of(forum.alice) == ["mentioned"]  # the author reads her report


async def test_team_only_category_mention_does_not_reach_members(
        forum: Forum, run_jobs: RunJobs) -> None:
    team = await Category.create(project=forum.project, name="Team", slug="team",
                                 read_access=Access.TEAM, post_access=Access.TEAM)
    topic, _ = await forum.topic(forum.owner, category=team)
    await forum.reply(topic, forum.owner, mentions=(forum.alice,))
    await run_jobs()
    assert await kinds_of(forum.alice) == []
    moderator = await make_user("mod")
    await add_member(forum.project, moderator, Role.MODERATOR)
    await forum.reply(topic, forum.owner, mentions=(moderator,))
    await run_jobs()
    assert await kinds_of(moderator) == ["mentioned"]


async def test_members_only_project_mention_does_not_reach_a_stranger(
        forum: Forum, run_jobs: RunJobs) -> None:
    await Project.filter(id=forum.project.id).update(default_visibility=Visibility.MEMBERS)
    topic, _ = await forum.topic(forum.alice)
    await forum.reply(topic, forum.bob, mentions=(forum.carol, forum.owner))
    await run_jobs()
    assert await kinds_of(forum.carol) == []
    assert await kinds_of(forum.owner) == ["mentioned"]


async def test_deleted_topic_notifies_nobody(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    post = await forum.reply(topic, forum.bob, mentions=(forum.owner,))
    await post.__class__.filter(id=post.id).update(deleted_at=topic.created_at)
    await run_jobs()
    assert await kinds_of(forum.owner) == []


async def test_edit_notifies_newly_mentioned_users_once(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    post = await forum.reply(topic, forum.bob, mentions=(forum.owner,))
    await run_jobs()
    for _ in range(2):
        await forum.platform.emit(events.PostEdited(
            project=forum.project.id, topic_id=topic.id, post_id=post.id,
            editor_id=forum.bob.id, newly_mentioned_user_ids=(forum.owner.id, forum.alice.id)))
        await run_jobs()
    assert await kinds_of(forum.owner) == ["mentioned"]  # already told by the post itself
    assert await kinds_of(forum.alice) == ["mentioned"]  # upgraded from "replied"


async def test_accepted_answer_notifies_its_author(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    answer = await forum.reply(topic, forum.bob)
    await run_jobs()
    await forum.accept(topic, answer, forum.alice)
    await run_jobs()
    assert await kinds_of(forum.bob) == ["answer_accepted"]
    # Withdrawing notifies nobody.
    await forum.platform.emit(events.AnswerAccepted(
        project=forum.project.id, topic_id=topic.id, post_id=None, answer_author_id=None,
        accepter_id=forum.alice.id, previous_post_id=answer.id,
        previous_answer_author_id=forum.bob.id))
    await run_jobs()
    assert await kinds_of(forum.bob) == ["answer_accepted"]


async def test_votes_aggregate_into_one_unread_notification(
        forum: Forum, run_jobs: RunJobs) -> None:
    _topic, opening = await forum.topic(forum.alice)
    await run_jobs()
    await forum.vote(opening, forum.bob)
    await forum.vote(opening, forum.owner)
    await forum.vote(opening, forum.owner, old=1, new=0)  # withdrawn: silent
    await forum.vote(opening, forum.carol, old=0, new=-1)  # down-votes: silent
    await run_jobs()
    [voted] = await notifications_of(forum.alice)
    assert voted.kind == NotificationKind.VOTED
    assert voted.data["votes"] == 2
    assert voted.actor_id == forum.owner.id  # type: ignore[attr-defined]
    # Once read, the next vote starts a new notification.
    await Notification.filter(id=voted.id).update(read_at=voted.created_at)
    await forum.vote(opening, forum.carol, old=-1, new=1)
    await run_jobs()
    notifications = await notifications_of(forum.alice)
    assert [n.data["votes"] for n in notifications] == [2, 1]
    assert [n.read_at is None for n in notifications] == [False, True]


async def test_watching_a_topic_notifies_every_new_post(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    await forum.watch(forum.owner, topic, WatchLevel.WATCHING)
    await forum.reply(topic, forum.bob)
    await forum.reply(topic, forum.alice)
    await run_jobs()
    assert await kinds_of(forum.owner) == ["watching_activity", "watching_activity"]


async def test_tracking_and_normal_are_not_told_of_every_post(
        forum: Forum, run_jobs: RunJobs) -> None:
    topic, opening = await forum.topic(forum.alice)
    await forum.watch(forum.owner, topic, WatchLevel.TRACKING)
    await forum.reply(topic, forum.bob, reply_to=opening)
    await forum.reply(topic, forum.bob, reply_to=opening)
    await run_jobs()
    assert await kinds_of(forum.owner) == []
    # Alice tracks her topic (by default): told of replies to her, not of every post.
    assert await kinds_of(forum.alice) == ["replied", "replied"]


async def test_creating_and_replying_track_the_topic(forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    await forum.reply(topic, forum.bob)
    await forum.watch(forum.owner, topic, WatchLevel.NORMAL)
    await forum.reply(topic, forum.owner)
    await run_jobs()
    levels = {w.user_id: (w.level, w.explicit)  # type: ignore[attr-defined]
              for w in await TopicWatch.filter(topic_id=topic.id)}
    assert levels == {forum.alice.id: (WatchLevel.TRACKING, False),
                      forum.bob.id: (WatchLevel.TRACKING, False),
                      forum.owner.id: (WatchLevel.NORMAL, True)}  # an explicit choice stays


async def test_watching_a_category_notifies_new_topics_and_their_posts(
        forum: Forum, run_jobs: RunJobs) -> None:
    await CategoryWatch.create(user=forum.owner, category=forum.questions,
                               level=WatchLevel.WATCHING)
    topic, _ = await forum.topic(forum.alice)
    await run_jobs()
    assert await kinds_of(forum.owner) == ["new_topic"]
    await forum.reply(topic, forum.bob)
    await run_jobs()
    assert await kinds_of(forum.owner) == ["new_topic", "watching_activity"]
    # A topic-level choice beats the category's.
    await forum.watch(forum.owner, topic, WatchLevel.NORMAL)
    await forum.reply(topic, forum.bob)
    await run_jobs()
    assert len(await kinds_of(forum.owner)) == 2


async def test_watching_a_parent_category_cascades_to_sub_categories(
        forum: Forum, run_jobs: RunJobs) -> None:
    sub = await Category.create(project=forum.project, name="Widgets", slug="widgets",
                                parent=forum.questions)
    await CategoryWatch.create(user=forum.owner, category=forum.questions,
                               level=WatchLevel.WATCHING)
    await forum.topic(forum.alice, category=sub)
    await run_jobs()
    assert await kinds_of(forum.owner) == ["new_topic"]


async def test_watching_a_category_never_leaks_private_reports(
        forum: Forum, run_jobs: RunJobs) -> None:
    await CategoryWatch.create(user=forum.bob, category=forum.security,
                               level=WatchLevel.WATCHING)
    await CategoryWatch.create(user=forum.owner, category=forum.security,
                               level=WatchLevel.WATCHING)
    await forum.topic(forum.alice, category=forum.security, private=True)
    await run_jobs()
    assert await kinds_of(forum.bob) == []
    assert await kinds_of(forum.owner) == ["new_topic"]


async def test_deleted_post_takes_its_unread_notifications_away(
        forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.alice)
    post = await forum.reply(topic, forum.bob, mentions=(forum.owner,))
    await run_jobs()
    assert await kinds_of(forum.owner) == ["mentioned"]
    await forum.platform.emit(events.PostDeleted(
        project=forum.project.id, topic_id=topic.id, post_id=post.id,
        author_id=forum.bob.id, actor_id=forum.bob.id))
    await run_jobs()
    assert await kinds_of(forum.owner) == []


async def test_moving_a_topic_out_of_reach_drops_its_notifications(
        forum: Forum, run_jobs: RunJobs) -> None:
    topic, _ = await forum.topic(forum.owner)
    await forum.reply(topic, forum.owner, mentions=(forum.alice, forum.bob))
    await run_jobs()
    team = await Category.create(project=forum.project, name="Team", slug="team",
                                 read_access=Access.TEAM)
    await topic.__class__.filter(id=topic.id).update(category_id=team.id)
    await forum.platform.emit(events.TopicChanged(
        project=forum.project.id, topic_id=topic.id, actor_id=forum.owner.id, change="moved"))
    await run_jobs()
    assert await kinds_of(forum.alice) == []  # its title no longer shows in her list
    assert await kinds_of(forum.bob) == []
    moderator = await make_user("mod2")
    await add_member(forum.project, moderator, Role.MODERATOR)
    await forum.reply(topic, forum.owner, mentions=(moderator,))
    await run_jobs()
    await forum.platform.emit(events.TopicChanged(
        project=forum.project.id, topic_id=topic.id, actor_id=forum.owner.id, change="moved"))
    await run_jobs()
    assert await kinds_of(moderator) == ["mentioned"]  # the team still reads it
