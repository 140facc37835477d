from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

BACKFILL_FIRST_RESPONDER = """
UPDATE tickets SET first_responder_id = (
    SELECT p.author_id FROM posts p JOIN users u ON u.id = p.author_id
    WHERE p.topic_id = tickets.topic_id AND p.number > 1 AND p.deleted_at IS NULL
      AND p.author_id <> tickets.requester_id
      AND (u.is_platform_admin OR EXISTS (
          SELECT 1 FROM memberships m WHERE m.user_id = p.author_id
            AND m.project_id = tickets.project_id
            AND m.role IN ('owner', 'lead', 'maintainer', 'supporter', 'moderator')))
    ORDER BY p.created_at, p.id LIMIT 1)
WHERE first_response_at IS NOT NULL AND first_responder_id IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [('forum', '0004_issues_6_7_8')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ConsultingBooking',
            name='reminded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='first_responder',
            field=fields.ForeignKeyField('forum.User', source_field='first_responder_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        # Tickets answered before this migration: their first responder is the author of
        # the earliest reply by a team member (or a platform admin) other than the requester.
        ops.RunSQL(BACKFILL_FIRST_RESPONDER),
    ]
