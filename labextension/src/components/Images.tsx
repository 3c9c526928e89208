/**
 * The Images section: the selected host's images with a filter and their
 * ipykernel mark, and pulls by name with progress and errors. A view of the
 * model's images and pulls; pulling calls `model.pullImage`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  checkIcon,
  closeIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { errorMessage, IImage, IPull } from '../api';
import { formatBytes, since } from '../format';
import { cudaBadge, pullText } from '../kernelStatus';
import { GPUKernelsModel } from '../model';
import { copyImageToHost } from '../widgets/CopyImageDialog';

/** The name to show: first tag, else digest, else the short id. */
export function imageName(image: IImage): string {
  return image.tags[0] ?? image.digests[0] ?? image.id.slice(7, 19);
}

function PullStatus(props: {
  pull: IPull;
  onDismiss: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { pull, onDismiss, trans } = props;
  const text =
    pull.status === 'failed'
      ? pull.error || trans.__('pull failed')
      : pull.status === 'done'
        ? trans.__('Pulled %1', pull.image)
        : pullText(pull, trans);
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
          aria-label={trans.__('Pulling %1', pull.image)}
          {...(pull.bytes_total
            ? { max: pull.bytes_total, value: pull.bytes_done ?? 0 }
            : {})}
        />
      )}
      <span className="jp-GPUKernels-pullText" title={pull.log.join('\n')}>
        {text}
      </span>
      {pull.status !== 'running' && (
        <ToolbarButtonComponent
          icon={closeIcon}
          tooltip={trans.__('Dismiss')}
          onClick={onDismiss}
        />
      )}
    </div>
  );
}

/** The ipykernel mark of an image: "ipykernel 6.29", "no ipykernel", or not checked. */
function kernelMark(image: IImage, trans: TranslationBundle): string {
  if (image.has_ipykernel === true) {
    return image.ipykernel_version
      ? trans.__('ipykernel %1', image.ipykernel_version)
      : trans.__('ipykernel');
  }
  return image.has_ipykernel === false
    ? trans.__('no ipykernel')
    : trans.__('ipykernel: not checked');
}

/** The tooltip of an image: id, tags, age, and whether it is allowed. */
function imageTitle(image: IImage, trans: TranslationBundle): string {
  return [
    image.id,
    ...image.tags,
    image.created ? trans.__('created %1', since(image.created, trans)) : '',
    image.allowed === false ? trans.__('not allowed by the administrator') : ''
  ]
    .filter(Boolean)
    .join('\n');
}

/** One image: name, size, ipykernel mark, extra tags, "New environment". */
function ImageItem(props: {
  image: IImage;
  onUseImage: (image: string) => void;
  onCopy: (image: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { image, onUseImage, trans } = props;
  const name = imageName(image);
  const extra = image.tags.slice(1);
  const cuda = cudaBadge(image, trans);
  return (
    <li
      className={
        'jp-GPUKernels-image' +
        (image.has_ipykernel ? ' jp-mod-kernel' : '') +
        (image.allowed === false ? ' jp-mod-disallowed' : '')
      }
      data-image={name}
      title={imageTitle(image, trans)}
    >
      <div className="jp-GPUKernels-imageLine">
        <span className="jp-GPUKernels-imageName">{name}</span>
        <span className="jp-GPUKernels-dim">{formatBytes(image.size)}</span>
      </div>
      <div className="jp-GPUKernels-imageLine">
        <span
          className={`jp-GPUKernels-kernelMark ${
            image.has_ipykernel ? 'jp-mod-yes' : 'jp-mod-no'
          }`}
          title={
            image.has_ipykernel
              ? trans.__('This image can run a kernel as it is')
              : trans.__(
                  'This image has no ipykernel: kernels cannot start from it'
                )
          }
        >
          {image.has_ipykernel && (
            <checkIcon.react tag="span" className="jp-GPUKernels-inlineIcon" />
          )}
          {kernelMark(image, trans)}
        </span>
        {extra.length > 0 && (
          <span className="jp-GPUKernels-dim">
            {' '}
            · {trans.__('+%1 tag(s)', extra.length)}
          </span>
        )}
        {image.allowed !== false && image.tags.length > 0 && (
          <button
            className="jp-GPUKernels-link jp-GPUKernels-useImage"
            title={trans.__('New environment with this image')}
            onClick={() => onUseImage(name)}
          >
            {trans.__('New environment')}
          </button>
        )}
        {image.allowed !== false && image.tags.length > 0 && (
          <button
            className="jp-GPUKernels-link jp-GPUKernels-copyImage"
            title={trans.__('Copy this image to another Docker host')}
            onClick={() => props.onCopy(name)}
          >
            {trans.__('Copy to host…')}
          </button>
        )}
      </div>
      {cuda && (
        <div
          className={`jp-GPUKernels-cuda${cuda.warn ? ' jp-mod-warn' : ''}`}
          title={cuda.title}
        >
          {cuda.warn && '⚠ '}
          {cuda.text}
          {cuda.warn && cuda.title && (
            <div className="jp-GPUKernels-cudaMessage">{cuda.title}</div>
          )}
        </div>
      )}
    </li>
  );
}

/** "Pull an image" with its own error line, and the host's pulls below. */
function PullForm(props: {
  model: GPUKernelsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [ref, setRef] = React.useState('');
  const [pullError, setPullError] = React.useState<string | null>(null);
  const host = model.host;
  const startPull = async (event: React.FormEvent) => {
    event.preventDefault();
    setPullError(null);
    const image = ref.trim();
    if (!image) {
      setPullError(
        trans.__(
          'Type an image name, e.g. python:3.12 or nvcr.io/nvidia/pytorch:24.05-py3'
        )
      );
      return;
    }
    try {
      await model.pullImage(host, image);
      setRef('');
    } catch (reason) {
      setPullError(errorMessage(reason, trans));
    }
  };
  return (
    <>
      <form className="jp-GPUKernels-pullForm" onSubmit={startPull}>
        <input
          className="jp-mod-styled jp-GPUKernels-input"
          placeholder={trans.__('Pull an image, e.g. python:3.12')}
          aria-label={trans.__('Image to pull')}
          value={ref}
          onChange={e => setRef(e.target.value)}
        />
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          disabled={!host}
        >
          {trans.__('Pull')}
        </button>
      </form>
      {pullError && (
        <div className="jp-GPUKernels-error" role="alert">
          {pullError}
        </div>
      )}
      {model.pulls
        .filter(p => p.host === host)
        .map(p => (
          <PullStatus
            key={p.id}
            pull={p}
            onDismiss={() => model.dismissPull(p.id)}
            trans={trans}
          />
        ))}
    </>
  );
}

/** Images whose tags or id contain the filter text. */
export function filterImages(images: IImage[], filter: string): IImage[] {
  const needle = filter.trim().toLowerCase();
  return images.filter(
    image =>
      !needle ||
      image.tags.some(t => t.toLowerCase().includes(needle)) ||
      image.id.includes(needle)
  );
}

export function ImagesView(props: {
  model: GPUKernelsModel;
  onUseImage: (image: string) => void;
  /** "Build image…" on this host (the build dialog). */
  onBuild?: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, onUseImage, trans } = props;
  const [filter, setFilter] = React.useState('');
  const host = model.host;
  const { value: images, error, loading } = model.images();
  const shown = filterImages(images ?? [], filter);
  return (
    <div className="jp-GPUKernels-imagesView">
      <PullForm model={model} trans={trans} />
      {props.onBuild && (
        <button
          className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-buildImage"
          title={trans.__('Build an image from a Dockerfile on %1', host)}
          onClick={props.onBuild}
        >
          {trans.__('Build image…')}
        </button>
      )}
      <input
        className="jp-mod-styled jp-GPUKernels-input jp-GPUKernels-filter"
        type="search"
        placeholder={trans.__('Filter images')}
        aria-label={trans.__('Filter images')}
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
          {loading
            ? trans.__('Listing images on %1…', host)
            : trans.__('No images loaded.')}
        </div>
      )}
      {images && images.length === 0 && (
        <div className="jp-GPUKernels-message">
          {trans.__('No images on %1. Pull one above.', host)}
        </div>
      )}
      {images && images.length > 0 && shown.length === 0 && (
        <div className="jp-GPUKernels-message">
          {trans.__('No image matches “%1”.', filter)}
        </div>
      )}
      <ul className="jp-GPUKernels-images">
        {shown.map(image => (
          <ImageItem
            key={image.id}
            image={image}
            onUseImage={onUseImage}
            onCopy={name => void copyImageToHost(model, host, name, trans)}
            trans={trans}
          />
        ))}
      </ul>
    </div>
  );
}
