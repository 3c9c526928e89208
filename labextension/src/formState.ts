/**
 * The environment form's state, as plain data: how a draft becomes form state,
 * how form state becomes the server's request body, and which field an error
 * belongs to. Pure (no React, no DOM): used by components/EnvironmentForm.tsx
 * and widgets/EnvironmentDialog.tsx, and unit-tested in test/formState.spec.ts.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { errorMessage, errorStatus, IEnvironmentFields } from './api';
import { parseGpuSpec } from './gpuSpec';

/** What the form starts with (all optional). */
export interface IEnvironmentDraft extends Partial<IEnvironmentFields> {
  name?: string;
}

/** The form fields a server message can point at ('form': the whole form). */
export type FormField =
  | 'name'
  | 'image'
  | 'host'
  | 'gpus'
  | 'memory'
  | 'cpus'
  | 'shm_size'
  | 'mounts'
  | 'env'
  | 'pull_policy'
  | 'display_name'
  | 'entrypoint'
  | 'form';

/** A message shown next to one field. */
export interface IFieldError {
  field: FormField;
  message: string;
}

/** Fields that live in the collapsed "More settings" part of the form. */
export const ADVANCED_FIELDS: FormField[] = [
  'mounts',
  'env',
  'pull_policy',
  'display_name',
  'entrypoint'
];

/**
 * Where to show a failed save: validation replies (400, 403 for a disallowed
 * image, 503 for a host that cannot be asked) go to the field the server named
 * in the reply's `field` (errors.py: http_reply); anything else, and a reply
 * that names no field, to the whole form. The message text is never read.
 */
export function saveError(
  reason: unknown,
  trans?: TranslationBundle
): IFieldError {
  const message = errorMessage(reason, trans);
  const status = errorStatus(reason);
  if (status !== 400 && status !== 403 && status !== 503) {
    return { field: 'form', message };
  }
  const named = (reason as { field?: unknown }).field;
  return {
    field: typeof named === 'string' ? (named as FormField) : 'form',
    message
  };
}

export type GpuMode = 'none' | 'count' | 'devices' | 'all' | 'other';

/**
 * Which of the form's GPU choices a request string is (its meaning from
 * gpuSpec.ts); a count or device list not written plainly ("count=2",
 * "device=GPU-…"), a CDI name or a refused spec goes to the free-text box.
 */
export function gpuModeOf(gpus: string | undefined): GpuMode {
  const text = (gpus ?? 'none').trim();
  switch (parseGpuSpec(text)?.kind) {
    case 'none':
      return 'none';
    case 'all':
      return 'all';
    case 'count':
      return /^\d+$/.test(text) ? 'count' : 'other';
    case 'devices':
      return /^device=\d+(,\d+)*$/.test(text) ? 'devices' : 'other';
    default:
      return 'other';
  }
}

/** Everything the form edits, as the inputs hold it (text). */
export interface IFormState {
  name: string;
  display_name: string;
  description: string;
  image: string;
  host: string;
  gpuMode: GpuMode;
  gpuCount: string;
  devices: string[];
  gpuOther: string;
  gpu_sharing: boolean;
  memory: string;
  cpus: string;
  shm_size: string;
  pull_policy: string;
  mounts: string;
  env: string;
  /** '' (the image's), a JSON list such as [] or ["tini", "--"], or words. */
  entrypoint: string;
}

/** The form's state for a draft (an environment being edited, or preset fields). */
export function initialState(
  draft: IEnvironmentDraft,
  host: string
): IFormState {
  const gpus = draft.gpus ?? 'none';
  const mode = gpuModeOf(gpus);
  return {
    name: draft.name ?? '',
    display_name: draft.display_name ?? '',
    description: draft.description ?? '',
    image: draft.image ?? '',
    host: draft.host || host || 'local',
    gpuMode: mode,
    gpuCount: mode === 'count' ? gpus : '1',
    devices: mode === 'devices' ? gpus.slice('device='.length).split(',') : [],
    gpuOther: mode === 'other' ? gpus : '',
    gpu_sharing: !!draft.gpu_sharing,
    memory: draft.memory ?? '',
    cpus: draft.cpus ? String(draft.cpus) : '',
    shm_size: draft.shm_size ?? '',
    pull_policy: draft.pull_policy ?? '',
    mounts: (draft.mounts ?? []).join('\n'),
    env: Object.entries(draft.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    entrypoint:
      draft.entrypoint === null || draft.entrypoint === undefined
        ? ''
        : typeof draft.entrypoint === 'string'
          ? draft.entrypoint
          : JSON.stringify(draft.entrypoint)
  };
}

/** The GPU request string of the form's GPU choice. */
export function gpuRequest(s: IFormState): string {
  switch (s.gpuMode) {
    case 'count':
      return s.gpuCount.trim();
    case 'devices':
      return `device=${s.devices.join(',')}`;
    case 'other':
      return s.gpuOther.trim();
    default:
      return s.gpuMode;
  }
}

/** "A=1\nB" -> {A: "1", B: ""}: a line without "=" is sent as is, for the server to explain. */
export function parseEnv(text: string): { [key: string]: string } {
  const env: { [key: string]: string } = {};
  for (const line of text.split('\n')) {
    const item = line.trim();
    if (!item) {
      continue;
    }
    const eq = item.indexOf('=');
    env[eq < 0 ? item : item.slice(0, eq)] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return env;
}

/**
 * The entrypoint field as sent: '' → null (the image's), a JSON list as is
 * ('[]' clears it), other text split into words; JSON that does not parse is
 * sent as text, for the server to explain.
 */
export function parseEntrypoint(text: string): string[] | string | null {
  const value = text.trim();
  if (!value) {
    return null;
  }
  if (value.startsWith('[')) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value.split(/\s+/);
}

/** The request body for the server; the server does all the validation. */
export function toFields(s: IFormState): IEnvironmentFields {
  const cpus = s.cpus.trim();
  return {
    image: s.image.trim(),
    display_name: s.display_name.trim(),
    description: s.description.trim(),
    host: s.host,
    gpus: gpuRequest(s),
    gpu_sharing: s.gpu_sharing,
    memory: s.memory.trim(),
    cpus: cpus === '' ? 0 : isNaN(Number(cpus)) ? cpus : Number(cpus),
    shm_size: s.shm_size.trim(),
    pull_policy: s.pull_policy,
    mounts: s.mounts
      .split('\n')
      .map(m => m.trim())
      .filter(Boolean),
    env: parseEnv(s.env),
    entrypoint: parseEntrypoint(s.entrypoint)
  };
}

/** The one check made before asking the server: a new environment needs a name. */
export function checkName(
  s: IFormState,
  editing: string | undefined,
  trans: TranslationBundle
): IFieldError | null {
  if (editing || s.name.trim()) {
    return null;
  }
  return {
    field: 'name',
    message: trans.__('Give the environment a name, e.g. "torch-1gpu".')
  };
}
