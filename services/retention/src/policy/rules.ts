/** Statuses an inquiry does not leave: `terminal_status` rules count from them. */
export const TERMINAL_STATUSES = ['completed', 'approved', 'declined', 'expired', 'failed'];

/**
 * The SQL expression (over a row with `template_id`, `status` and `created_at`, and the rules as
 * jsonb parameter `$n`) for when an inquiry's PII is due: its template's rule, else the default
 * rule, else never. An inquiry's status is the one it was recorded with (Veil receives no status
 * changes), so a `terminal_status` rule counts from the record when that status is final.
 */
export function dueAtSql(rulesParam: string, row = ''): string {
  const col = (c: string) => (row ? `${row}.${c}` : c);
  // aliases of their own: they must not hide the caller's row
  const rule = `coalesce(
      (select retention_rule from jsonb_array_elements(${rulesParam}) retention_rule
        where retention_rule ->> 'templateId' = ${col('template_id')}),
      (select retention_rule from jsonb_array_elements(${rulesParam}) retention_rule
        where not retention_rule ? 'templateId'))`;
  return `(select case
            when chosen.retention_rule is null then null
            when chosen.retention_rule ->> 'after' = 'terminal_status'
                 and ${col('status')} <> all(array['${TERMINAL_STATUSES.join("','")}']) then null
            else ${col('created_at')} + ((chosen.retention_rule ->> 'days')::int * interval '1 day')
          end from (select ${rule} as retention_rule) chosen)`;
}
