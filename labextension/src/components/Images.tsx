/**
 * The selected host's images: filter, ipykernel mark, pull by name with progress.
 */
import {
  checkIcon,
  closeIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, IImage, IPull } from './api';
import { formatBytes, since } from './format';
import { GPUKernelsModel } from './model';

function imageName(image: IImage): string {
  return image.tags[0] ?? image.digests[0] ?? image.id.slice(7, 19);
}

function PullStatus(props: {
  pull: IPull;
  onDismiss: () => void;
}): JSX.Element {
  const { pull, onDismiss } = props;
  const text =
    pull.status === 'failed'
      ? pull.error || 'pull failed'
      : pull.status === 'done'
        ? `Pulled ${pull.image}`
        : pull.message || `Pulling ${pull.image}…`;
  return (
    <div
      className={`jp-GPUKernels-pull jp-mod-${pull.status}`}
      data-pull-id={pull.id}
      data-status={pull.status}
      role={pull.status === 'failed' ? 'alert' : 'status'}
    >
      {pull.status === 'running' && (
        <progress
          className="jp-GPUKernels-pullProgress"
          aria-label={`Pulling ${pull.image}`}
        />
      )}
      <span className="jp-GPUKernels-pullText" title={pull.log.join('\n')}>
        {text}
      </span>
      {pull.status !== 'running' && (
        <ToolbarButtonComponent
          icon={closeIcon}
          tooltip="Dismiss"
          onClick={onDismiss}
        />
      )}
    </div>
  );
}

export function ImagesView(props: {
  model: GPUKernelsModel;
  onUseImage: (image: string) => void;
}): JSX.Element {
  const { model, onUseImage } = props;
  const [filter, setFilter] = React.useState('');
  const [ref, setRef] = React.useState('');
  const [pullError, setPullError] = React.useState<string | null>(null);
  const host = model.host;
  const { value: images, error, loading } = model.images();
  const pulls = model.pulls.filter(p => p.host === host);

  const startPull = async (event: React.FormEvent) => {
    event.preventDefault();
    setPullError(null);
    const image = ref.trim();
    if (!image) {
      setPullError(
        'Type an image name, e.g. python:3.12 or nvcr.io/nvidia/pytorch:24.05-py3'
      );
      return;
    }
    try {
      await model.pullImage(host, image);
      setRef('');
    } catch (reason) {
      setPullError(errorMessage(reason));
    }
  };

  const needle = filter.trim().toLowerCase();
  const shown = (images ?? []).filter(
    image =>
      !needle ||
      image.tags.some(t => t.toLowerCase().includes(needle)) ||
      image.id.includes(needle)
  );

  return (
    <div className="jp-GPUKernels-imagesView">
      <form className="jp-GPUKernels-pullForm" onSubmit={startPull}>
        <input
          className="jp-mod-styled jp-GPUKernels-input"
          placeholder="Pull an image, e.g. python:3.12"
          aria-label="Image to pull"
          value={ref}
          onChange={e => setRef(e.target.value)}
        />
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          disabled={!host}
        >
          Pull
        </button>
      </form>
      {pullError && (
        <div className="jp-GPUKernels-error" role="alert">
          {pullError}
        </div>
      )}
      {pulls.map(p => (
        <PullStatus
          key={p.id}
          pull={p}
          onDismiss={() => model.dismissPull(p.id)}
        />
      ))}
      <input
        className="jp-mod-styled jp-GPUKernels-input jp-GPUKernels-filter"
        type="search"
        placeholder="Filter images"
        aria-label="Filter images"
        value={filter}
        onChange={e => setFilter(e.target.value)}
      />
      {error && (
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      )}
      {!images && !error && (
        <div className="jp-GPUKernels-message">
          {loading ? `Listing images on ${host}…` : 'No images loaded.'}
        </div>
      )}
      {images && images.length === 0 && (
        <div className="jp-GPUKernels-message">
          No images on {host}. Pull one above.
        </div>
      )}
      {images && images.length > 0 && shown.length === 0 && (
        <div className="jp-GPUKernels-message">
          No image matches “{filter}”.
        </div>
      )}
      <ul className="jp-GPUKernels-images">
        {shown.map(image => {
          const name = imageName(image);
          const extra = image.tags.slice(1);
          const kernelMark =
            image.has_ipykernel === true
              ? `ipykernel ${image.ipykernel_version ?? ''}`.trim()
              : image.has_ipykernel === false
                ? 'no ipykernel'
                : 'ipykernel: not checked';
          return (
            <li
              key={image.id}
              className={
                'jp-GPUKernels-image' +
                (image.has_ipykernel ? ' jp-mod-kernel' : '') +
                (image.allowed === false ? ' jp-mod-disallowed' : '')
              }
              data-image={name}
              title={`${image.id}\n${image.tags.join('\n')}${
                image.created ? `\ncreated ${since(image.created)}` : ''
              }${image.allowed === false ? '\nnot allowed by the administrator' : ''}`}
            >
              <div className="jp-GPUKernels-imageLine">
                <span className="jp-GPUKernels-imageName">{name}</span>
                <span className="jp-GPUKernels-dim">
                  {formatBytes(image.size)}
                </span>
              </div>
              <div className="jp-GPUKernels-imageLine">
                <span
                  className={`jp-GPUKernels-kernelMark ${
                    image.has_ipykernel ? 'jp-mod-yes' : 'jp-mod-no'
                  }`}
                  title={
                    image.has_ipykernel
                      ? 'This image can run a kernel as it is'
                      : 'This image has no ipykernel: kernels cannot start from it'
                  }
                >
                  {image.has_ipykernel && (
                    <checkIcon.react
                      tag="span"
                      className="jp-GPUKernels-inlineIcon"
                    />
                  )}
                  {kernelMark}
                </span>
                {extra.length > 0 && (
                  <span className="jp-GPUKernels-dim">
                    {' '}
                    · +{extra.length} tag(s)
                  </span>
                )}
                {image.allowed !== false && image.tags.length > 0 && (
                  <button
                    className="jp-GPUKernels-link jp-GPUKernels-useImage"
                    title="New environment with this image"
                    onClick={() => onUseImage(name)}
                  >
                    New environment
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
