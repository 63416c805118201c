"""Equity samples carry the range of the net P&L since the previous sample (low, high, deepest fall
within), so the report recomputes the engine's tick-level maximum drawdown. Rows already written get
low = high = their net P&L and no fall: their sessions' report drawdown stays minute-level."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sessions_app', '0005_equity_samples'),
    ]

    operations = [
        migrations.AddField(
            model_name='equitysample',
            name='low_pnl',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Lowest net P&L the engine tracked since the previous sample.', max_digits=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='equitysample',
            name='high_pnl',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Highest net P&L the engine tracked since the previous sample.', max_digits=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='equitysample',
            name='drop',
            field=models.DecimalField(decimal_places=2, default=0, help_text='Deepest fall of the net P&L within the ticks since the previous sample (>= 0).', max_digits=16),
            preserve_default=False,
        ),
        migrations.RunSQL(
            'UPDATE "sessions_app_equitysample" SET "low_pnl" = "realized_pnl" + "unrealized_pnl", '
            '"high_pnl" = "realized_pnl" + "unrealized_pnl"',
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
