/**
 * The create/edit environment form. It keeps what the user typed (React state)
 * and reports every change with `onChange`; saving, and the server's message
 * shown at its field (`error`), belong to widgets/EnvironmentDialog.tsx. Reads
 * the model's hosts, images and GPUs, and loads those of a host it shows.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IImage } from '../api';
import {
  ADVANCED_FIELDS,
  IEnvironmentDraft,
  IFieldError,
  IFormState,
  initialState
} from '../formState';
import { GPUKernelsModel } from '../model';
import { FieldError, SelectField, TextField } from './Field';
import { GpuRequestField } from './GpuRequestField';

export interface IEnvironmentFormProps {
  model: GPUKernelsModel;
  draft: IEnvironmentDraft;
  /** The name of the environment being edited; absent when creating one. */
  editing?: string;
  /** The message to show (at its field), from the last save. */
  error: IFieldError | null;
  /** Gets the form state after every change (and once at the start). */
  onChange: (state: IFormState) => void;
  trans: TranslationBundle;
}

/** The image's tags for the datalist, images with ipykernel first. */
function imageTags(images: IImage[]) {
  return images
    .filter(i => i.allowed !== false)
    .sort((a, b) => Number(!!b.has_ipykernel) - Number(!!a.has_ipykernel))
    .flatMap(i => i.tags.map(t => ({ tag: t, kernel: i.has_ipykernel })));
}

/** Whether the typed image is on the host, and whether it can run a kernel. */
function ImageNote(props: {
  image: string;
  host: string;
  images: IImage[];
  trans: TranslationBundle;
}): JSX.Element | null {
  const { host, images, trans } = props;
  const image = props.image.trim();
  if (!image) {
    return null;
  }
  const found = images.find(i => i.tags.includes(image));
  if (!found) {
    return (
      <div className="jp-GPUKernels-hint">
        {trans.__('Not on %1 yet: it is pulled when a kernel starts.', host)}
      </div>
    );
  }
  return found.has_ipykernel === false ? (
    <div className="jp-GPUKernels-warning">
      {trans.__('This image has no ipykernel; kernels cannot start from it.')}
    </div>
  ) : null;
}

export function EnvironmentForm(props: IEnvironmentFormProps): JSX.Element {
  const { model, editing, error, trans } = props;
  const [s, setState] = React.useState<IFormState>(() =>
    initialState(props.draft, model.host)
  );
  const set = (patch: Partial<IFormState>) =>
    setState(prev => ({ ...prev, ...patch }));
  React.useEffect(() => props.onChange(s), [s]);

  // the form's host may differ from the panel's: load its GPUs and images once
  React.useEffect(() => {
    const gpus = model.gpus(s.host);
    if (s.host && !gpus.value && !gpus.loading) {
      void model.refreshGPUs(s.host);
    }
    const images = model.images(s.host);
    if (s.host && !images.value && !images.loading) {
      void model.refreshImages(s.host);
    }
  }, [s.host]);

  const hosts = model.hosts.value ?? [];
  const images = model.images(s.host).value ?? [];
  const listId = `jp-GPUKernels-images-${editing ?? 'new'}`;
  const hostOptions: [string, string][] = [
    ...(hosts.some(h => h.name === s.host)
      ? []
      : ([[s.host, s.host]] as [string, string][])),
    ...hosts.map(
      h =>
        [
          h.name,
          h.reachable === false ? trans.__('%1 (unreachable)', h.name) : h.name
        ] as [string, string]
    )
  ];
  const text = (name: keyof IFormState) => ({
    name,
    value: s[name] as string,
    error,
    onChange: (value: string) => set({ [name]: value })
  });

  return (
    <form
      className="jp-GPUKernels-envForm"
      aria-label={
        editing
          ? trans.__('Edit environment %1', editing)
          : trans.__('New environment')
      }
      onSubmit={e => e.preventDefault()}
    >
      {error?.field === 'form' && (
        <div className="jp-GPUKernels-error" role="alert" data-field="form">
          {error.message}
        </div>
      )}
      <div className="jp-GPUKernels-row2">
        {!editing && (
          <TextField
            {...text('name')}
            label={trans.__('Name')}
            placeholder={trans.__('e.g. torch-1gpu')}
            hint={trans.__('The kernel will be gpu-<name>.')}
          />
        )}
        <SelectField
          name="host"
          label={trans.__('Host')}
          value={s.host}
          options={hostOptions}
          error={error}
          onChange={host => set({ host, devices: [] })}
        />
      </div>
      <TextField
        {...text('image')}
        label={trans.__('Image')}
        placeholder={trans.__("pick from the host's images or type one")}
        list={listId}
        after={
          <>
            <datalist id={listId}>
              {imageTags(images).map(t => (
                <option key={t.tag} value={t.tag}>
                  {t.kernel
                    ? trans.__('ipykernel ✓')
                    : t.kernel === false
                      ? trans.__('no ipykernel')
                      : ''}
                </option>
              ))}
            </datalist>
            <ImageNote
              image={s.image}
              host={s.host}
              images={images}
              trans={trans}
            />
          </>
        }
      />
      <GpuRequestField
        state={s}
        set={set}
        gpus={model.gpus(s.host)}
        error={error}
        trans={trans}
      />
      <div className="jp-GPUKernels-row">
        <TextField
          {...text('memory')}
          label={trans.__('Memory')}
          placeholder={trans.__('e.g. 8g')}
          showError={false}
        />
        <TextField
          {...text('cpus')}
          label={trans.__('CPUs')}
          placeholder={trans.__('e.g. 4')}
          showError={false}
        />
        <TextField
          {...text('shm_size')}
          label={trans.__('Shared memory')}
          placeholder={trans.__('e.g. 1g')}
          showError={false}
        />
      </div>
      <FieldError field="memory" error={error} />
      <FieldError field="cpus" error={error} />
      <FieldError field="shm_size" error={error} />
      <details
        className="jp-GPUKernels-advanced"
        open={ADVANCED_FIELDS.includes(error?.field ?? 'form')}
      >
        <summary>{trans.__('More settings')}</summary>
        <TextField
          {...text('display_name')}
          label={trans.__('Display name')}
          placeholder={trans.__('shown in the launcher')}
        />
        <TextField
          {...text('description')}
          label={trans.__('Description')}
          validated={false}
        />
        <SelectField
          name="pull_policy"
          label={trans.__('Pull image')}
          value={s.pull_policy}
          options={[
            ['', trans.__('default (when missing)')],
            ['missing', trans.__('when missing')],
            ['always', trans.__('always')],
            ['never', trans.__('never')]
          ]}
          error={error}
          onChange={pull_policy => set({ pull_policy })}
        />
        <TextField
          {...text('mounts')}
          label={trans.__('Mounts (one per line)')}
          placeholder="/data:/data:ro"
          rows={2}
        />
        <TextField
          {...text('env')}
          label={trans.__('Environment variables')}
          placeholder="KEY=value"
          rows={2}
        />
      </details>
    </form>
  );
}
