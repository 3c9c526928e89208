/**
 * Environments: the list (new notebook, use for the current notebook, edit,
 * delete) and the create/edit form with the server's validation messages.
 */
import { Dialog } from '@jupyterlab/apputils';
import {
  addIcon,
  deleteIcon,
  editIcon,
  lockIcon,
  notebookIcon,
  ReactWidget,
  ToolbarButtonComponent,
  UseSignal
} from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  errorMessage,
  errorStatus,
  IEnvironment,
  IEnvironmentFields,
  IGPU
} from './api';
import { describeGpuRequest, isFree, shortImage } from './format';
import { GPUKernelsModel } from './model';

/** What the form starts with (all optional). */
export interface IEnvironmentDraft extends Partial<IEnvironmentFields> {
  name?: string;
}

/** The form fields a server message can point at. */
type Field =
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
  | 'form';

/**
 * Which field a server validation message is about (the 400 reply has only a
 * message). The order matters: "environment variable" before "name", etc.
 */
export function fieldOf(message: string): Field {
  const rules: [RegExp, Field][] = [
    [/environment variable|\benv\b/i, 'env'],
    [/memory/i, 'memory'],
    [/\bshm\b|shared memory/i, 'shm_size'],
    [/\bcpus?\b/i, 'cpus'],
    [/GPU spec|\bgpus?\b|device=/i, 'gpus'],
    [/\bmount/i, 'mounts'],
    [/pull policy/i, 'pull_policy'],
    [/display_name/i, 'display_name'],
    [/image/i, 'image'],
    [/Docker host|\bhost\b/i, 'host'],
    [/invalid name|needs a name|named .* exists|renaming/i, 'name']
  ];
  for (const [re, field] of rules) {
    if (re.test(message)) {
      return field;
    }
  }
  return 'form';
}

type GpuMode = 'none' | 'count' | 'devices' | 'all' | 'other';

function gpuModeOf(gpus: string | undefined): GpuMode {
  const text = (gpus ?? 'none').trim();
  if (!text || text === 'none' || text === '0') {
    return 'none';
  }
  if (text === 'all') {
    return 'all';
  }
  if (/^\d+$/.test(text)) {
    return 'count';
  }
  if (/^device=\d+(,\d+)*$/.test(text)) {
    return 'devices';
  }
  return 'other';
}

interface IFormState {
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
}

function initialState(draft: IEnvironmentDraft, host: string): IFormState {
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
      .join('\n')
  };
}

/** The request body for the server; it does all the validation. */
function toFields(s: IFormState): IEnvironmentFields {
  const gpus =
    s.gpuMode === 'count'
      ? s.gpuCount.trim()
      : s.gpuMode === 'devices'
        ? s.devices.length
          ? `device=${s.devices.join(',')}`
          : 'device='
        : s.gpuMode === 'other'
          ? s.gpuOther.trim()
          : s.gpuMode;
  const env: { [key: string]: string } = {};
  for (const line of s.env.split('\n')) {
    const text = line.trim();
    if (!text) {
      continue;
    }
    const eq = text.indexOf('=');
    // "KEY" without "=" is sent as is, so the server can say what is wrong
    env[eq < 0 ? text : text.slice(0, eq)] = eq < 0 ? '' : text.slice(eq + 1);
  }
  const cpus = s.cpus.trim();
  return {
    image: s.image.trim(),
    display_name: s.display_name.trim(),
    description: s.description.trim(),
    host: s.host,
    gpus,
    gpu_sharing: s.gpu_sharing,
    memory: s.memory.trim(),
    cpus: cpus === '' ? 0 : isNaN(Number(cpus)) ? cpus : Number(cpus),
    shm_size: s.shm_size.trim(),
    pull_policy: s.pull_policy,
    mounts: s.mounts
      .split('\n')
      .map(m => m.trim())
      .filter(Boolean),
    env
  };
}

function FieldError(props: {
  field: Field;
  error: { field: Field; message: string } | null;
}) {
  if (!props.error || props.error.field !== props.field) {
    return null;
  }
  return (
    <div
      className="jp-GPUKernels-fieldError"
      role="alert"
      data-field={props.field}
    >
      {props.error.message}
    </div>
  );
}

/** GPU chips of the form's host: free ones can be picked, held ones say by whom. */
function DevicePicker(props: {
  gpus: IGPU[] | null;
  error: string | null;
  value: string[];
  onChange: (value: string[]) => void;
}): JSX.Element {
  const { gpus, value, onChange } = props;
  if (!gpus) {
    return (
      <div className="jp-GPUKernels-message">
        {props.error ? props.error : 'Loading GPUs…'}
      </div>
    );
  }
  if (!gpus.length) {
    return <div className="jp-GPUKernels-message">This host has no GPUs.</div>;
  }
  return (
    <ul className="jp-GPUKernels-devicePicker" aria-label="GPUs">
      {gpus.map(gpu => {
        const checked = value.includes(gpu.index);
        const free = isFree(gpu);
        const held = gpu.holders
          .map(h => h.notebook.split('/').pop() || h.environment)
          .join(', ');
        return (
          <li
            key={gpu.index}
            className={`jp-GPUKernels-device ${free ? 'jp-mod-free' : 'jp-mod-busy'}`}
          >
            <label title={gpu.uuid}>
              <input
                type="checkbox"
                checked={checked}
                aria-label={`GPU ${gpu.index}`}
                onChange={() =>
                  onChange(
                    checked
                      ? value.filter(v => v !== gpu.index)
                      : [...value, gpu.index].sort(
                          (a, b) => Number(a) - Number(b)
                        )
                  )
                }
              />
              <span className="jp-GPUKernels-gpuIndex">{gpu.index}</span>
              <span className="jp-GPUKernels-dim">
                {free ? 'free' : `in use: ${held}`}
              </span>
            </label>
          </li>
        );
      })}
    </ul>
  );
}

export function EnvironmentForm(props: {
  model: GPUKernelsModel;
  draft: IEnvironmentDraft;
  /** The name of the environment being edited; absent when creating one. */
  editing?: string;
  /** Receives the function that validates and saves the form (the dialog calls it). */
  setSubmit: (submit: () => Promise<IEnvironment | null>) => void;
}): JSX.Element {
  const { model, draft, editing } = props;
  const [s, setState] = React.useState<IFormState>(() =>
    initialState(draft, model.host)
  );
  const [error, setError] = React.useState<{
    field: Field;
    message: string;
  } | null>(null);
  const set = (patch: Partial<IFormState>) =>
    setState(prev => ({ ...prev, ...patch }));
  const current = React.useRef(s);
  current.current = s;

  // the form's host may differ from the panel's: load its GPUs and images once
  React.useEffect(() => {
    if (s.host && !model.gpus(s.host).value && !model.gpus(s.host).loading) {
      void model.refreshGPUs(s.host);
    }
    if (
      s.host &&
      !model.images(s.host).value &&
      !model.images(s.host).loading
    ) {
      void model.refreshImages(s.host);
    }
  }, [s.host]);

  const hosts = model.hosts.value ?? [];
  const images = model.images(s.host).value ?? [];
  const gpus = model.gpus(s.host);
  const tags = images
    .filter(i => i.allowed !== false)
    .sort((a, b) => Number(!!b.has_ipykernel) - Number(!!a.has_ipykernel))
    .flatMap(i => i.tags.map(t => ({ tag: t, kernel: i.has_ipykernel })));
  const listId = `jp-GPUKernels-images-${editing ?? 'new'}`;

  const submit = async (): Promise<IEnvironment | null> => {
    setError(null);
    const state = current.current;
    const name = editing ?? state.name.trim();
    if (!name) {
      setError({
        field: 'name',
        message: 'Give the environment a name, e.g. "torch-1gpu".'
      });
      return null;
    }
    try {
      return await model.saveEnvironment(name, toFields(state), !!editing);
    } catch (reason) {
      const message = errorMessage(reason);
      const status = errorStatus(reason);
      setError({
        field:
          status === 400 || status === 403 || status === 503
            ? (((reason as { field?: string }).field as Field | undefined) ??
              fieldOf(message))
            : 'form',
        message
      });
      return null;
    }
  };
  React.useEffect(() => props.setSubmit(submit), []);

  const input = (
    field: keyof IFormState & Field,
    label: string,
    placeholder: string,
    hint?: string,
    withError = true
  ) => (
    <div
      className={`jp-GPUKernels-field${error?.field === field ? ' jp-mod-invalid' : ''}`}
    >
      <label>
        <span className="jp-GPUKernels-label">{label}</span>
        <input
          className="jp-mod-styled jp-GPUKernels-input"
          name={field}
          value={s[field] as string}
          placeholder={placeholder}
          aria-invalid={error?.field === field}
          onChange={e =>
            set({ [field]: e.target.value } as Partial<IFormState>)
          }
        />
      </label>
      {hint && <div className="jp-GPUKernels-hint">{hint}</div>}
      {withError && <FieldError field={field} error={error} />}
    </div>
  );

  return (
    <form
      className="jp-GPUKernels-envForm"
      aria-label={editing ? `Edit environment ${editing}` : 'New environment'}
      onSubmit={e => e.preventDefault()}
    >
      {error?.field === 'form' && (
        <div className="jp-GPUKernels-error" role="alert" data-field="form">
          {error.message}
        </div>
      )}
      <div className="jp-GPUKernels-row2">
        {!editing &&
          input(
            'name',
            'Name',
            'e.g. torch-1gpu',
            'The kernel will be gpu-<name>.'
          )}
        <div
          className={`jp-GPUKernels-field${error?.field === 'host' ? ' jp-mod-invalid' : ''}`}
        >
          <label>
            <span className="jp-GPUKernels-label">Host</span>
            <select
              className="jp-mod-styled jp-GPUKernels-input"
              name="host"
              value={s.host}
              onChange={e => set({ host: e.target.value, devices: [] })}
            >
              {!hosts.some(h => h.name === s.host) && (
                <option value={s.host}>{s.host}</option>
              )}
              {hosts.map(h => (
                <option key={h.name} value={h.name}>
                  {h.name}
                  {h.reachable === false ? ' (unreachable)' : ''}
                </option>
              ))}
            </select>
          </label>
          <FieldError field="host" error={error} />
        </div>
      </div>
      <div
        className={`jp-GPUKernels-field${error?.field === 'image' ? ' jp-mod-invalid' : ''}`}
      >
        <label>
          <span className="jp-GPUKernels-label">Image</span>
          <input
            className="jp-mod-styled jp-GPUKernels-input"
            name="image"
            list={listId}
            value={s.image}
            placeholder="pick from the host's images or type one"
            aria-invalid={error?.field === 'image'}
            onChange={e => set({ image: e.target.value })}
          />
        </label>
        <datalist id={listId}>
          {tags.map(t => (
            <option key={t.tag} value={t.tag}>
              {t.kernel
                ? 'ipykernel ✓'
                : t.kernel === false
                  ? 'no ipykernel'
                  : ''}
            </option>
          ))}
        </datalist>
        {(() => {
          const found = images.find(i => i.tags.includes(s.image.trim()));
          if (!s.image.trim()) {
            return null;
          }
          if (!found) {
            return (
              <div className="jp-GPUKernels-hint">
                Not on {s.host} yet: it is pulled when a kernel starts.
              </div>
            );
          }
          return found.has_ipykernel === false ? (
            <div className="jp-GPUKernels-warning">
              This image has no ipykernel; kernels cannot start from it.
            </div>
          ) : null;
        })()}
        <FieldError field="image" error={error} />
      </div>
      <fieldset
        className={`jp-GPUKernels-field jp-GPUKernels-gpuField${error?.field === 'gpus' ? ' jp-mod-invalid' : ''}`}
      >
        <legend className="jp-GPUKernels-label">GPUs</legend>
        <div className="jp-GPUKernels-radios">
          {(
            [
              ['none', 'None'],
              ['count', 'Count'],
              ['devices', 'Pick'],
              ['all', 'All']
            ] as [GpuMode, string][]
          ).map(([mode, label]) => (
            <label key={mode}>
              <input
                type="radio"
                name="gpuMode"
                value={mode}
                checked={s.gpuMode === mode}
                onChange={() => set({ gpuMode: mode })}
              />
              {label}
            </label>
          ))}
          {s.gpuMode === 'other' && (
            <label>
              <input
                type="radio"
                name="gpuMode"
                value="other"
                checked
                readOnly
              />
              Other
            </label>
          )}
        </div>
        {s.gpuMode === 'count' && (
          <label className="jp-GPUKernels-inline">
            <input
              className="jp-mod-styled jp-GPUKernels-input jp-GPUKernels-narrow"
              name="gpuCount"
              value={s.gpuCount}
              aria-label="Number of GPUs"
              onChange={e => set({ gpuCount: e.target.value })}
            />
            <span className="jp-GPUKernels-dim">
              free GPUs, chosen when the kernel starts
            </span>
          </label>
        )}
        {s.gpuMode === 'devices' && (
          <DevicePicker
            gpus={gpus.value?.gpus ?? null}
            error={gpus.error}
            value={s.devices}
            onChange={devices => set({ devices })}
          />
        )}
        {s.gpuMode === 'other' && (
          <input
            className="jp-mod-styled jp-GPUKernels-input"
            name="gpuOther"
            value={s.gpuOther}
            aria-label="GPU request"
            onChange={e => set({ gpuOther: e.target.value })}
          />
        )}
        <label className="jp-GPUKernels-inline">
          <input
            type="checkbox"
            checked={s.gpu_sharing}
            onChange={e => set({ gpu_sharing: e.target.checked })}
          />
          Share GPUs with other sharing kernels
        </label>
        <FieldError field="gpus" error={error} />
      </fieldset>
      <div className="jp-GPUKernels-row">
        {input('memory', 'Memory', 'e.g. 8g', undefined, false)}
        {input('cpus', 'CPUs', 'e.g. 4', undefined, false)}
        {input('shm_size', 'Shared memory', 'e.g. 1g', undefined, false)}
      </div>
      <FieldError field="memory" error={error} />
      <FieldError field="cpus" error={error} />
      <FieldError field="shm_size" error={error} />
      <details
        className="jp-GPUKernels-advanced"
        open={['mounts', 'env', 'pull_policy', 'display_name'].includes(
          error?.field ?? ''
        )}
      >
        <summary>More settings</summary>
        {input('display_name', 'Display name', 'shown in the launcher')}
        <div className="jp-GPUKernels-field">
          <label>
            <span className="jp-GPUKernels-label">Description</span>
            <input
              className="jp-mod-styled jp-GPUKernels-input"
              name="description"
              value={s.description}
              onChange={e => set({ description: e.target.value })}
            />
          </label>
        </div>
        <div
          className={`jp-GPUKernels-field${error?.field === 'pull_policy' ? ' jp-mod-invalid' : ''}`}
        >
          <label>
            <span className="jp-GPUKernels-label">Pull image</span>
            <select
              className="jp-mod-styled jp-GPUKernels-input"
              name="pull_policy"
              value={s.pull_policy}
              onChange={e => set({ pull_policy: e.target.value })}
            >
              <option value="">default (when missing)</option>
              <option value="missing">when missing</option>
              <option value="always">always</option>
              <option value="never">never</option>
            </select>
          </label>
          <FieldError field="pull_policy" error={error} />
        </div>
        <div
          className={`jp-GPUKernels-field${error?.field === 'mounts' ? ' jp-mod-invalid' : ''}`}
        >
          <label>
            <span className="jp-GPUKernels-label">Mounts (one per line)</span>
            <textarea
              className="jp-mod-styled jp-GPUKernels-input"
              name="mounts"
              rows={2}
              placeholder="/data:/data:ro"
              value={s.mounts}
              onChange={e => set({ mounts: e.target.value })}
            />
          </label>
          <FieldError field="mounts" error={error} />
        </div>
        <div
          className={`jp-GPUKernels-field${error?.field === 'env' ? ' jp-mod-invalid' : ''}`}
        >
          <label>
            <span className="jp-GPUKernels-label">Environment variables</span>
            <textarea
              className="jp-mod-styled jp-GPUKernels-input"
              name="env"
              rows={2}
              placeholder="KEY=value"
              value={s.env}
              onChange={e => set({ env: e.target.value })}
            />
          </label>
          <FieldError field="env" error={error} />
        </div>
      </details>
    </form>
  );
}

function EnvironmentItem(props: {
  env: IEnvironment;
  onNewNotebook: () => void;
  onUse: () => void;
  onEdit: () => void;
  onDelete: () => void;
}): JSX.Element {
  const { env } = props;
  const facts = [
    env.host,
    shortImage(env.image),
    describeGpuRequest(env.gpus),
    env.memory && `${env.memory} RAM`,
    env.cpus ? `${env.cpus} CPU` : '',
    env.shm_size && `shm ${env.shm_size}`
  ].filter(Boolean);
  return (
    <li
      className="jp-GPUKernels-env"
      data-environment={env.name}
      title={env.description || env.kernel_name}
    >
      <div className="jp-GPUKernels-envHeader">
        <span className="jp-GPUKernels-envName">
          {env.display_name || env.name}
          {env.read_only && (
            <lockIcon.react
              tag="span"
              className="jp-GPUKernels-inlineIcon"
              title="Defined by the administrator (read-only)"
            />
          )}
        </span>
        {!env.read_only && (
          <span className="jp-GPUKernels-envTools">
            <ToolbarButtonComponent
              icon={editIcon}
              tooltip={`Edit ${env.name}`}
              onClick={props.onEdit}
            />
            <ToolbarButtonComponent
              icon={deleteIcon}
              tooltip={`Delete ${env.name}`}
              onClick={props.onDelete}
            />
          </span>
        )}
      </div>
      <div className="jp-GPUKernels-dim jp-GPUKernels-envFacts">
        {facts.join(' · ')}
      </div>
      <div className="jp-GPUKernels-envActions">
        <button
          className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-newNotebook"
          title={`Create a notebook in the current folder with the ${env.kernel_name} kernel`}
          onClick={props.onNewNotebook}
        >
          <notebookIcon.react tag="span" className="jp-GPUKernels-inlineIcon" />
          New notebook
        </button>
        <button
          className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-useEnv"
          title={`Switch the current notebook to the ${env.kernel_name} kernel`}
          onClick={props.onUse}
        >
          Use for current notebook
        </button>
      </div>
    </li>
  );
}

/** The Environments section body. */
export function EnvironmentsView(props: {
  model: GPUKernelsModel;
  onOpenForm: (draft: IEnvironmentDraft, editing?: string) => void;
  onNewNotebook: (env: IEnvironment) => void;
  onUse: (env: IEnvironment) => void;
  onDelete: (env: IEnvironment) => void;
}): JSX.Element {
  const { model } = props;
  const { value: envs, error, loading } = model.environments;
  return (
    <div className="jp-GPUKernels-envsView">
      {error && (
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      )}
      {!envs && !error && (
        <div className="jp-GPUKernels-message">
          {loading ? 'Loading environments…' : ''}
        </div>
      )}
      {envs && envs.length === 0 && (
        <div className="jp-GPUKernels-message">
          No environment yet. An environment is an image, a host and GPUs; each
          one is a kernel you can pick in the launcher.
        </div>
      )}
      <ul className="jp-GPUKernels-envs">
        {(envs ?? []).map(env => (
          <EnvironmentItem
            key={env.name}
            env={env}
            onNewNotebook={() => props.onNewNotebook(env)}
            onUse={() => props.onUse(env)}
            onEdit={() => props.onOpenForm(env, env.name)}
            onDelete={() => props.onDelete(env)}
          />
        ))}
      </ul>
      <button
        className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-addEnv"
        onClick={() => props.onOpenForm({})}
      >
        <addIcon.react tag="span" className="jp-GPUKernels-inlineIcon" />
        New environment
      </button>
    </div>
  );
}

/**
 * The form as a dialog body; `submit()` saves and says whether it worked.
 */
class EnvironmentFormBody
  extends ReactWidget
  implements Dialog.IBodyWidget<IEnvironment | null>
{
  constructor(
    private _model: GPUKernelsModel,
    private _draft: IEnvironmentDraft,
    private _editing?: string
  ) {
    super();
    this.addClass('jp-GPUKernels-envDialogBody');
  }

  /** The saved environment (after a successful `submit`). */
  getValue(): IEnvironment | null {
    return this._saved;
  }

  async submit(): Promise<boolean> {
    this._saved = this._submit ? await this._submit() : null;
    return this._saved !== null;
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() => (
          <EnvironmentForm
            model={this._model}
            draft={this._draft}
            editing={this._editing}
            setSubmit={submit => (this._submit = submit)}
          />
        )}
      </UseSignal>
    );
  }

  private _saved: IEnvironment | null = null;
  private _submit: (() => Promise<IEnvironment | null>) | null = null;
}

/**
 * A dialog that stays open until the server accepts the environment: "Create"
 * (or Enter) saves, and a validation error shows next to its field.
 */
class EnvironmentDialog extends Dialog<IEnvironment | null> {
  constructor(
    private _form: EnvironmentFormBody,
    editing?: string
  ) {
    super({
      title: editing ? `Edit environment “${editing}”` : 'New environment',
      body: _form,
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: editing ? 'Save' : 'Create' })
      ],
      defaultButton: 1,
      focusNodeSelector: 'input[name="name"], input[name="image"]'
    });
    this.addClass('jp-GPUKernels-envDialog');
  }

  resolve(index?: number): void {
    if (index !== undefined && index !== 1) {
      super.resolve(index);
      return;
    }
    if (this._saving) {
      return;
    }
    this._saving = true;
    const buttons = Array.from(
      this.node.querySelectorAll<HTMLButtonElement>('.jp-Dialog-footer button')
    );
    buttons.forEach(b => (b.disabled = true));
    void this._form.submit().then(ok => {
      this._saving = false;
      buttons.forEach(b => (b.disabled = false));
      if (ok) {
        super.resolve(1);
      }
    });
  }

  private _saving = false;
}

/**
 * Show the create/edit form; resolves with the saved environment, or null when cancelled.
 */
export async function openEnvironmentDialog(
  model: GPUKernelsModel,
  draft: IEnvironmentDraft,
  editing?: string
): Promise<IEnvironment | null> {
  const body = new EnvironmentFormBody(model, draft, editing);
  const result = await new EnvironmentDialog(body, editing).launch();
  return result.button.accept ? result.value : null;
}
