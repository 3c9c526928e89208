/**
 * The create/edit environment form. It keeps what the user typed (React state)
 * and reports every change with `onChange`; saving, and the server's message
 * shown at its field (`error`), belong to widgets/EnvironmentDialog.tsx. Reads
 * the model's hosts, images and GPUs, and loads those of a host it shows.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IImage } from '../api';
import { cudaWarning } from '../kernelStatus';
import {
  ADVANCED_FIELDS,
  FormField,
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
  const cuda = cudaWarning(images, image);
  if (cuda) {
    return (
      <div className="jp-GPUKernels-warning jp-GPUKernels-cudaWarning">
        {trans.__('CUDA: %1', cuda)}
      </div>
    );
  }
  return found.has_ipykernel === false ? (
    <div className="jp-GPUKernels-warning">
      {trans.__('This image has no ipykernel; kernels cannot start from it.')}
    </div>
  ) : null;
}

/** What the parts of the form get: the state, its setter, the error, the text. */
interface IPartProps {
  s: IFormState;
  set: (patch: Partial<IFormState>) => void;
  error: IFieldError | null;
  trans: TranslationBundle;
}

/** The props of a TextField bound to a text field of the state. */
function bind(props: IPartProps, name: keyof IFormState) {
  return {
    name,
    value: props.s[name] as string,
    error: props.error,
    onChange: (value: string) => props.set({ [name]: value })
  };
}

/** The host select's [value, label] pairs (the form's host even when not listed). */
function hostOptions(
  model: GPUKernelsModel,
  host: string,
  trans: TranslationBundle
): [string, string][] {
  const hosts = model.hosts.value ?? [];
  const listed: [string, string][] = hosts.map(h => [
    h.name,
    h.reachable === false ? trans.__('%1 (unreachable)', h.name) : h.name
  ]);
  return hosts.some(h => h.name === host) ? listed : [[host, host], ...listed];
}

/** Image input with the host's tags to pick from and a note on the typed one. */
function ImageField(
  props: IPartProps & { images: IImage[]; listId: string }
): JSX.Element {
  const { s, images, listId, trans } = props;
  return (
    <TextField
      {...bind(props, 'image')}
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
  );
}

/** Memory, CPUs and shared memory in one row, their messages below it. */
function LimitsRow(props: IPartProps): JSX.Element {
  const { error, trans } = props;
  const limits: [keyof IFormState & string, string, string][] = [
    ['memory', trans.__('Memory'), trans.__('e.g. 8g')],
    ['cpus', trans.__('CPUs'), trans.__('e.g. 4')],
    ['shm_size', trans.__('Shared memory'), trans.__('e.g. 1g')]
  ];
  return (
    <>
      <div className="jp-GPUKernels-row">
        {limits.map(([name, label, placeholder]) => (
          <TextField
            key={name}
            {...bind(props, name)}
            label={label}
            placeholder={placeholder}
            showError={false}
          />
        ))}
      </div>
      {limits.map(([name]) => (
        <FieldError key={name} field={name as FormField} error={error} />
      ))}
    </>
  );
}

/** "More settings": opened when the server's message is about one of them. */
function AdvancedFields(props: IPartProps): JSX.Element {
  const { s, set, error, trans } = props;
  return (
    <details
      className="jp-GPUKernels-advanced"
      open={ADVANCED_FIELDS.includes(error?.field ?? 'form')}
    >
      <summary>{trans.__('More settings')}</summary>
      <TextField
        {...bind(props, 'display_name')}
        label={trans.__('Display name')}
        placeholder={trans.__('shown in the launcher')}
      />
      <TextField
        {...bind(props, 'description')}
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
        {...bind(props, 'mounts')}
        label={trans.__('Mounts (one per line)')}
        placeholder="/data:/data:ro"
        rows={2}
      />
      <TextField
        {...bind(props, 'env')}
        label={trans.__('Environment variables')}
        placeholder="KEY=value"
        rows={2}
      />
      <TextField
        {...bind(props, 'entrypoint')}
        label={trans.__('Entrypoint')}
        placeholder={trans.__("the image's; [] clears it")}
      />
    </details>
  );
}

/** Load the GPUs and images of the form's host once (it may differ from the panel's). */
function useHostData(model: GPUKernelsModel, host: string): void {
  React.useEffect(() => {
    const gpus = model.gpus(host);
    if (host && !gpus.value && !gpus.loading) {
      void model.refreshGPUs(host);
    }
    const images = model.images(host);
    if (host && !images.value && !images.loading) {
      void model.refreshImages(host);
    }
  }, [host]);
}

export function EnvironmentForm(props: IEnvironmentFormProps): JSX.Element {
  const { model, editing, error, trans } = props;
  const [s, setState] = React.useState<IFormState>(() =>
    initialState(props.draft, model.host)
  );
  const set = (patch: Partial<IFormState>) =>
    setState(prev => ({ ...prev, ...patch }));
  // a block, not an expression: an effect's return value is its cleanup
  React.useEffect(() => {
    props.onChange(s);
  }, [s]);
  useHostData(model, s.host);
  const part: IPartProps = { s, set, error, trans };

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
            {...bind(part, 'name')}
            label={trans.__('Name')}
            placeholder={trans.__('e.g. torch-1gpu')}
            hint={trans.__('The kernel will be gpu-<name>.')}
          />
        )}
        <SelectField
          name="host"
          label={trans.__('Host')}
          value={s.host}
          options={hostOptions(model, s.host, trans)}
          error={error}
          onChange={host => set({ host, devices: [] })}
        />
      </div>
      <ImageField
        {...part}
        images={model.images(s.host).value ?? []}
        listId={`jp-GPUKernels-images-${editing ?? 'new'}`}
      />
      <GpuRequestField
        state={s}
        set={set}
        gpus={model.gpus(s.host)}
        error={error}
        trans={trans}
      />
      <LimitsRow {...part} />
      <AdvancedFields {...part} />
    </form>
  );
}
