/** Which values of state-like columns get a colour (tables in the Ink views and in past output). */
const STATE_COLUMN = /^(state|status|operating|active|result|link)$/i;
const GOOD = /^(up|ready|established|installed|connected|active|running|ok|yes|on|allow)$/i;
const BAD = /^(down|failed|error|refused|denied|disconnected|no|off|deny|expired)$/i;
const BUSY = /^(connecting|negotiating|rekeying|resolving|idle|teardown|deleting|pending|init|starting)$/i;

/** The colour of a value in a state-like column, or undefined. */
export function stateColor(column: string, value: string): 'green' | 'red' | 'yellow' | undefined {
  if (!STATE_COLUMN.test(column)) return undefined;
  const v = value.trim();
  if (GOOD.test(v)) return 'green';
  if (BAD.test(v)) return 'red';
  if (BUSY.test(v)) return 'yellow';
  return undefined;
}
