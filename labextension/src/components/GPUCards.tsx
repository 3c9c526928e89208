/**
 * The GPUs section: a card per GPU of the selected host (memory and
 * utilisation bars, who holds it, a checkbox on free ones to start an
 * environment with them). Pure views; the sidebar (widgets/Sidebar.tsx) keeps
 * the selection and opens notebooks.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IGPU, IGPUHolder, IGPUInventory, IKernelRow } from '../api';
import {
  basename,
  formatMiB,
  isFree,
  percent,
  shortImage,
  since
} from '../format';
import { ILoaded } from '../loaded';
import { toggleIndex } from './DevicePicker';

/** A horizontal bar with a label and a value text. */
export function Meter(props: {
  label: string;
  pct: number | null;
  text: string;
  className?: string;
}): JSX.Element {
  const { label, pct, text } = props;
  const level =
    pct === null ? '' : pct >= 90 ? 'high' : pct >= 60 ? 'mid' : 'low';
  return (
    <div className={`jp-GPUKernels-meter ${props.className ?? ''}`}>
      <span className="jp-GPUKernels-meterLabel">{label}</span>
      <span
        className="jp-GPUKernels-meterBar"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct === null ? undefined : Math.round(pct)}
      >
        <span
          className={`jp-GPUKernels-meterFill jp-mod-${level}`}
          style={{ width: `${pct ?? 0}%` }}
        />
      </span>
      <span className="jp-GPUKernels-meterText">{text}</span>
    </div>
  );
}

/**
 * Where a holder's notebook is, as a path this server can open (or null).
 *
 * Kernels of this server have their session path in `GET kernels`; the
 * container label holds the path the starting server saw (often absolute).
 */
export function holderPath(
  holder: IGPUHolder,
  kernels: IKernelRow[] | null
): string | null {
  const row = kernels?.find(k => k.kernel_id === holder.kernel_id);
  if (row?.this_server && row.notebook) {
    return row.notebook;
  }
  if (holder.notebook && !holder.notebook.startsWith('/') && row?.this_server) {
    return holder.notebook;
  }
  return null;
}

/** The tooltip of a holder: everything known about its kernel. */
function holderTitle(
  holder: IGPUHolder,
  canOpen: boolean,
  trans: TranslationBundle
): string {
  return [
    holder.notebook && trans.__('notebook: %1', holder.notebook),
    holder.environment && trans.__('environment: %1', holder.environment),
    holder.image && trans.__('image: %1', holder.image),
    trans.__('kernel: %1', holder.kernel_id),
    trans.__('container: %1', holder.container),
    holder.since &&
      trans.__('since: %1 (%2)', holder.since, since(holder.since, trans)),
    holder.server && trans.__('server: %1', holder.server),
    holder.shared ? trans.__('shared GPU') : '',
    canOpen
      ? trans.__('Click to open the notebook')
      : trans.__('Started by another Jupyter server')
  ]
    .filter(Boolean)
    .join('\n');
}

function Holder(props: {
  holder: IGPUHolder;
  kernels: IKernelRow[] | null;
  onOpen: (path: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { holder, kernels, onOpen } = props;
  const path = holderPath(holder, kernels);
  const name =
    basename(path ?? holder.notebook) ||
    holder.environment ||
    holder.kernel_id.slice(0, 8);
  const title = holderTitle(holder, path !== null, props.trans);
  return (
    <li className="jp-GPUKernels-holder" data-kernel-id={holder.kernel_id}>
      {path ? (
        <button
          className="jp-GPUKernels-link"
          title={title}
          onClick={() => onOpen(path)}
        >
          {name}
        </button>
      ) : (
        <span title={title}>{name}</span>
      )}
      {holder.image && (
        <span className="jp-GPUKernels-dim"> · {shortImage(holder.image)}</span>
      )}
    </li>
  );
}

export function GPUCard(props: {
  gpu: IGPU;
  kernels: IKernelRow[] | null;
  selected: boolean;
  onToggle: () => void;
  onOpen: (path: string) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { gpu, kernels, selected, onToggle, onOpen, trans } = props;
  const free = isFree(gpu);
  const mem = percent(gpu.memory_used_mib, gpu.memory_total_mib);
  const util = gpu.utilization_pct;
  return (
    <li
      className={
        'jp-GPUKernels-gpu' +
        (free ? ' jp-mod-free' : ' jp-mod-busy') +
        (selected ? ' jp-mod-selected' : '')
      }
      data-gpu-index={gpu.index}
      title={gpu.uuid}
    >
      <div className="jp-GPUKernels-gpuHeader">
        <label className="jp-GPUKernels-gpuTitle">
          {free && (
            <input
              type="checkbox"
              checked={selected}
              onChange={onToggle}
              title={trans.__('Select this free GPU for a new environment')}
              aria-label={trans.__('Select GPU %1', gpu.index)}
            />
          )}
          <span className="jp-GPUKernels-gpuIndex">
            {trans.__('GPU %1', gpu.index)}
          </span>
          <span className="jp-GPUKernels-gpuName">{gpu.name}</span>
        </label>
        <span
          className={`jp-GPUKernels-badge ${free ? 'jp-mod-ok' : 'jp-mod-busy'}`}
        >
          {free ? trans.__('free') : trans.__('in use')}
        </span>
      </div>
      <Meter
        label={trans.__('Mem')}
        pct={mem}
        text={`${formatMiB(gpu.memory_used_mib)} / ${formatMiB(gpu.memory_total_mib)}`}
        className="jp-GPUKernels-memory"
      />
      <Meter
        label={trans.__('Util')}
        pct={util}
        text={util === null ? '?' : `${util} %`}
        className="jp-GPUKernels-utilization"
      />
      {gpu.holders.length > 0 && (
        <ul className="jp-GPUKernels-holders">
          {gpu.holders.map(h => (
            <Holder
              key={h.kernel_id}
              holder={h}
              kernels={kernels}
              onOpen={onOpen}
              trans={trans}
            />
          ))}
        </ul>
      )}
    </li>
  );
}

export interface IGPUsViewProps {
  host: string;
  gpus: ILoaded<IGPUInventory>;
  kernels: IKernelRow[] | null;
  selected: string[];
  onSelect: (indices: string[]) => void;
  onOpen: (path: string) => void;
  onNewEnvironment: (indices: string[]) => void;
  trans: TranslationBundle;
}

/** The cards with their summary, or why there are none. */
function GPUList(props: IGPUsViewProps & { inv: IGPUInventory }): JSX.Element {
  const { host, inv, kernels, selected, onSelect, onOpen, trans } = props;
  if (inv.gpus.length === 0) {
    return (
      <div className="jp-GPUKernels-message">
        {inv.driver
          ? inv.error ||
            trans.__('The GPU driver reports no GPUs on this host.')
          : trans.__('No GPUs usable on %1: %2', host, inv.error || inv.status)}
      </div>
    );
  }
  const free = inv.gpus.filter(isFree).length;
  return (
    <>
      <div className="jp-GPUKernels-summary">
        {trans.__('%1 of %2 free · via %3', free, inv.gpus.length, inv.source)}
      </div>
      <ul className="jp-GPUKernels-gpus">
        {inv.gpus.map(gpu => (
          <GPUCard
            key={gpu.index || gpu.uuid}
            gpu={gpu}
            kernels={kernels}
            selected={selected.includes(gpu.index)}
            onToggle={() => onSelect(toggleIndex(selected, gpu.index))}
            onOpen={onOpen}
            trans={trans}
          />
        ))}
      </ul>
    </>
  );
}

/**
 * The GPUs section body.
 */
export function GPUsView(props: IGPUsViewProps): JSX.Element {
  const { host, gpus, selected, onSelect, trans } = props;
  const inv = gpus.value;
  if (!host) {
    return (
      <div className="jp-GPUKernels-message">
        {trans.__('No host selected.')}
      </div>
    );
  }
  if (!inv) {
    return gpus.error ? (
      <div className="jp-GPUKernels-error" role="alert">
        {gpus.error}
      </div>
    ) : (
      <div className="jp-GPUKernels-message">
        {trans.__('Looking for GPUs on %1…', host)}
      </div>
    );
  }
  return (
    <div className="jp-GPUKernels-gpusView">
      {gpus.error && (
        <div className="jp-GPUKernels-error" role="alert">
          {gpus.error}
        </div>
      )}
      <GPUList {...props} inv={inv} />
      {selected.length > 0 && (
        <div className="jp-GPUKernels-selection">
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={() => props.onNewEnvironment(selected)}
          >
            {trans.__('New environment on GPU %1', selected.join(', '))}
          </button>
          <button className="jp-mod-styled" onClick={() => onSelect([])}>
            {trans.__('Clear')}
          </button>
        </div>
      )}
    </div>
  );
}
