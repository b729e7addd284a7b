/** The dashboard's UI parts: presentation only, no page and no route of their own. */
export { Alert, Loading, Notice } from './alerts.tsx';
export { AuthShell } from './auth-shell.tsx';
export { ConfirmButton, CopyButton, SubmitButton } from './buttons.tsx';
export { type ChartSeries, TimeChart } from './chart.tsx';
export { Digest } from './digest.tsx';
export {
  CheckboxField,
  NameField,
  SecretValueField,
  SelectField,
  TextAreaField,
  TextField,
} from './fields.tsx';
export {
  formatDate,
  formatDay,
  formatSeconds,
  formatTime,
  formatUnix,
  formatUtc,
  formatWallClock,
} from './format.ts';
export { AddForm, onSubmit, RowForm } from './forms.tsx';
export { type KillSwitchLabels, KillSwitchPanel } from './kill-switch.tsx';
export { LiveTitle, PendingCount, TimeLeft } from './live.tsx';
export { ROLE_LABELS, RoleBadge, roleOptions } from './roles.tsx';
export { RUN_STATUS_LABEL, RunStatusBadge } from './run-status.tsx';
export { argsFrom, initialValues, SchemaFields } from './schema-fields.tsx';
export { PageHeader, Section } from './sections.tsx';
export { DataTable, FormRow } from './tables.tsx';
export { TokenStateBadge, tokenState } from './token-state.tsx';
export { ToolCall } from './tool-call.tsx';
export { Breakable, When } from './when.tsx';
