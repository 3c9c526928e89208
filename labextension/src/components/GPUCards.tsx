/**
 * GPU cards of the selected host: memory and utilisation bars, who holds it.
 */
import * as React from 'react';

import { IGPU, IGPUHolder, IGPUInventory, IKernelRow } from './api';
import {
  basename,
  formatMiB,
  isFree,
  percent,
  shortImage,
  since
} from './format';
import { ILoaded } from './model';

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

function Holder(props: {
  holder: IGPUHolder;
  kernels: IKernelRow[] | null;
  onOpen: (path: string) => void;
}): JSX.Element {
  const { holder, kernels, onOpen } = props;
  const path = holderPath(holder, kernels);
  const name =
    basename(path ?? holder.notebook) ||
    holder.environment ||
    holder.kernel_id.slice(0, 8);
  const title = [
    holder.notebook && `notebook: ${holder.notebook}`,
    holder.environment && `environment: ${holder.environment}`,
    holder.image && `image: ${holder.image}`,
    `kernel: ${holder.kernel_id}`,
    `container: ${holder.container}`,
    holder.since && `since: ${holder.since} (${since(holder.since)})`,
    holder.server && `server: ${holder.server}`,
    holder.shared ? 'shared GPU' : '',
    path ? 'Click to open the notebook' : 'Started by another Jupyter server'
  ]
    .filter(Boolean)
    .join('\n');
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
}): JSX.Element {
  const { gpu, kernels, selected, onToggle, onOpen } = props;
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
              title="Select this free GPU for a new environment"
              aria-label={`Select GPU ${gpu.index}`}
            />
          )}
          <span className="jp-GPUKernels-gpuIndex">GPU {gpu.index}</span>
          <span className="jp-GPUKernels-gpuName">{gpu.name}</span>
        </label>
        <span
          className={`jp-GPUKernels-badge ${free ? 'jp-mod-ok' : 'jp-mod-busy'}`}
        >
          {free ? 'free' : 'in use'}
        </span>
      </div>
      <Meter
        label="Mem"
        pct={mem}
        text={`${formatMiB(gpu.memory_used_mib)} / ${formatMiB(gpu.memory_total_mib)}`}
        className="jp-GPUKernels-memory"
      />
      <Meter
        label="Util"
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
            />
          ))}
        </ul>
      )}
    </li>
  );
}

/**
 * The GPUs section body.
 */
export function GPUsView(props: {
  host: string;
  gpus: ILoaded<IGPUInventory>;
  kernels: IKernelRow[] | null;
  selected: string[];
  onSelect: (indices: string[]) => void;
  onOpen: (path: string) => void;
  onNewEnvironment: (indices: string[]) => void;
}): JSX.Element {
  const { host, gpus, kernels, selected, onSelect, onOpen } = props;
  const inv = gpus.value;
  if (!host) {
    return <div className="jp-GPUKernels-message">No host selected.</div>;
  }
  if (!inv) {
    if (gpus.error) {
      return (
        <div className="jp-GPUKernels-error" role="alert">
          {gpus.error}
        </div>
      );
    }
    return (
      <div className="jp-GPUKernels-message">Looking for GPUs on {host}…</div>
    );
  }
  const toggle = (index: string) =>
    onSelect(
      selected.includes(index)
        ? selected.filter(i => i !== index)
        : [...selected, index].sort((a, b) => Number(a) - Number(b))
    );
  const free = inv.gpus.filter(isFree).length;
  return (
    <div className="jp-GPUKernels-gpusView">
      {gpus.error && (
        <div className="jp-GPUKernels-error" role="alert">
          {gpus.error}
        </div>
      )}
      {inv.gpus.length === 0 ? (
        <div className="jp-GPUKernels-message">
          {inv.driver
            ? inv.error || 'The GPU driver reports no GPUs on this host.'
            : `No GPUs usable on ${host}: ${inv.error || inv.status}`}
        </div>
      ) : (
        <>
          <div className="jp-GPUKernels-summary">
            {free} of {inv.gpus.length} free · via {inv.source}
          </div>
          <ul className="jp-GPUKernels-gpus">
            {inv.gpus.map(gpu => (
              <GPUCard
                key={gpu.index || gpu.uuid}
                gpu={gpu}
                kernels={kernels}
                selected={selected.includes(gpu.index)}
                onToggle={() => toggle(gpu.index)}
                onOpen={onOpen}
              />
            ))}
          </ul>
        </>
      )}
      {selected.length > 0 && (
        <div className="jp-GPUKernels-selection">
          <button
            className="jp-mod-styled jp-mod-accept"
            onClick={() => props.onNewEnvironment(selected)}
          >
            New environment on GPU {selected.join(', ')}
          </button>
          <button className="jp-mod-styled" onClick={() => onSelect([])}>
            Clear
          </button>
        </div>
      )}
    </div>
  );
}
