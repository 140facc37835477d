from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from forum.topics.models import Access, TopicKind, TopicState
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('forum', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Category',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('forum.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='categories', on_delete=OnDelete.CASCADE)),
                ('parent', fields.ForeignKeyField('forum.Category', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=60)),
                ('slug', fields.CharField(max_length=60)),
                ('description', fields.TextField(default='', unique=False)),
                ('color', fields.CharField(default='#2756d6', max_length=7)),
                ('position', fields.IntField(default=0)),
                ('read_access', fields.CharEnumField(default=Access.EVERYONE, description='EVERYONE: everyone\nMEMBERS: members\nTEAM: team', enum_type=Access, max_length=8)),
                ('post_access', fields.CharEnumField(default=Access.EVERYONE, description='EVERYONE: everyone\nMEMBERS: members\nTEAM: team', enum_type=Access, max_length=8)),
                ('private_topics', fields.BooleanField(default=False)),
                ('default_kind', fields.CharEnumField(default=TopicKind.QUESTION, description='QUESTION: question\nDISCUSSION: discussion\nANNOUNCEMENT: announcement\nBUG_REPORT: bug_report\nSECURITY_REPORT: security_report', enum_type=TopicKind, max_length=15)),
                ('topic_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'categories', 'app': 'forum', 'unique_together': (('project', 'slug'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('forum.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='tags', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=40)),
                ('description', fields.TextField(default='', unique=False)),
                ('topic_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tags', 'app': 'forum', 'unique_together': (('project', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Topic',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('forum.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='topics', on_delete=OnDelete.CASCADE)),
                ('category', fields.ForeignKeyField('forum.Category', source_field='category_id', db_constraint=True, to_field='id', related_name='topics', on_delete=OnDelete.RESTRICT)),
                ('author', fields.ForeignKeyField('forum.User', source_field='author_id', db_constraint=True, to_field='id', related_name='topics', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(default=TopicKind.QUESTION, description='QUESTION: question\nDISCUSSION: discussion\nANNOUNCEMENT: announcement\nBUG_REPORT: bug_report\nSECURITY_REPORT: security_report', enum_type=TopicKind, max_length=15)),
                ('title', fields.CharField(max_length=200)),
                ('slug', fields.CharField(max_length=80)),
                ('state', fields.CharEnumField(default=TopicState.OPEN, description='OPEN: open\nSOLVED: solved\nCLOSED: closed\nARCHIVED: archived', enum_type=TopicState, max_length=8)),
                ('pinned', fields.BooleanField(default=False)),
                ('locked', fields.BooleanField(default=False)),
                ('is_private', fields.BooleanField(default=False)),
                ('accepted_post_id', fields.IntField(null=True)),
                ('tags', fields.ManyToManyField('forum.Tag', unique=True, db_constraint=True, through='topic_tags', forward_key='tag_id', backward_key='topics_id', related_name='topics', on_delete=OnDelete.CASCADE)),
                ('score', fields.IntField(default=0)),
                ('reply_count', fields.IntField(default=0)),
                ('view_count', fields.IntField(default=0)),
                ('last_posted_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('last_poster', fields.ForeignKeyField('forum.User', source_field='last_poster_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_by', fields.ForeignKeyField('forum.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('plugin_data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'topics', 'app': 'forum', 'indexes': [Index(fields=['project_id', 'last_posted_at']), Index(fields=['project_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Post',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('topic', fields.ForeignKeyField('forum.Topic', source_field='topic_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('forum.User', source_field='author_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.RESTRICT)),
                ('number', fields.IntField()),
                ('reply_to', fields.ForeignKeyField('forum.Post', source_field='reply_to_id', null=True, db_constraint=True, to_field='id', related_name='replies', on_delete=OnDelete.SET_NULL)),
                ('source', fields.TextField(unique=False)),
                ('cooked', fields.TextField(unique=False)),
                ('score', fields.IntField(default=0)),
                ('upvotes', fields.IntField(default=0)),
                ('downvotes', fields.IntField(default=0)),
                ('edit_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('edited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_by', fields.ForeignKeyField('forum.User', source_field='deleted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('plugin_data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'posts', 'app': 'forum', 'unique_together': (('topic', 'number'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Bookmark',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('forum.User', source_field='user_id', db_constraint=True, to_field='id', related_name='bookmarks', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('forum.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='bookmarks', on_delete=OnDelete.CASCADE)),
                ('note', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'bookmarks', 'app': 'forum', 'unique_together': (('user', 'post'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PostRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('forum.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('source', fields.TextField(unique=False)),
                ('title', fields.CharField(null=True, max_length=200)),
                ('editor', fields.ForeignKeyField('forum.User', source_field='editor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'post_revisions', 'app': 'forum', 'unique_together': (('post', 'number'),), 'pk_attr': 'id', 'table_description': "What a post (and, for the opening post, its topic's title) said before an edit."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TopicView',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('topic', fields.ForeignKeyField('forum.Topic', source_field='topic_id', db_constraint=True, to_field='id', related_name='views', on_delete=OnDelete.CASCADE)),
                ('viewer', fields.CharField(max_length=64)),
                ('day', fields.DateField()),
            ],
            options={'table': 'topic_views', 'app': 'forum', 'unique_together': (('topic', 'viewer', 'day'),), 'pk_attr': 'id', 'table_description': 'One counted view per viewer (user id, or a hash of the address) per topic per day.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Vote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('forum.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('forum.User', source_field='user_id', db_constraint=True, to_field='id', related_name='votes', on_delete=OnDelete.CASCADE)),
                ('value', fields.SmallIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'votes', 'app': 'forum', 'unique_together': (('post', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Project',
            name='post_edit_window_minutes',
            field=fields.IntField(default=1440),
        ),
    ]
