"""A trade's entry node and position number, stored as data.

They were only inside ``position_id`` (``<entry-node-id>-pos<N>``), and readers parsed them out. The
engine now reports both; rows written before this migration get them here, once, by that parse.
"""

import re

from django.db import migrations, models

POSITION_ID = re.compile(r"^(?P<node>.+)-pos(?P<number>[0-9]+)$")
BATCH = 2000


def entry_node_and_number(position_id: str) -> tuple[str, int]:
    """``"entry-ce-pos2"`` -> ``("entry-ce", 2)``; ValueError for an id the engine never writes."""
    match = POSITION_ID.match(position_id)
    if match is None:
        raise ValueError(f"position id {position_id!r} is not <entry-node-id>-pos<N>")
    return match["node"], int(match["number"])


def fill_from_position_ids(apps, schema_editor):
    Trade = apps.get_model("sessions_app", "Trade")
    batch = []
    for trade in Trade.objects.only("pk", "position_id").order_by("pk").iterator(chunk_size=BATCH):
        trade.entry_node_id, trade.position_num = entry_node_and_number(trade.position_id)
        batch.append(trade)
        if len(batch) == BATCH:
            Trade.objects.bulk_update(batch, ["entry_node_id", "position_num"])
            batch = []
    Trade.objects.bulk_update(batch, ["entry_node_id", "position_num"])


class Migration(migrations.Migration):

    dependencies = [
        ("sessions_app", "0003_emergency_stop_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="trade",
            name="entry_node_id",
            field=models.CharField(default="", help_text="The entry node that opened the position.", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="trade",
            name="position_num",
            field=models.PositiveIntegerField(
                default=0, help_text="The position's number among its entry node's, from 1."),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="trade",
            name="position_id",
            field=models.CharField(help_text="<entry_node_id>-pos<position_num>", max_length=96),
        ),
        migrations.RunPython(fill_from_position_ids, migrations.RunPython.noop, elidable=True),
    ]
