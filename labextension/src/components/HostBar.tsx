/**
 * The host picker at the top of the panel, with the selected host's status
 * (reachable, Docker version, GPU driver) and the fix for what is wrong. A pure
 * view of the model's hosts; selecting calls `model.selectHost`.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IDockerHost } from '../api';
import { hostFix, hostState } from '../format';
import { GPUKernelsModel } from '../model';
import { loadTrans } from '../translation';

/**
 * Text shown when no Docker host is reachable, e.g. on Binder.
 */
export function noHostHelp(trans: TranslationBundle = loadTrans()): string {
  return trans.__(
    'GPU kernels run in Docker containers, so they need a Docker host. Start a Docker daemon on this machine, or add a remote one from a terminal with "jupyter gpu-kernels hosts add NAME ssh://user@host" (or tcp://host:2376 with TLS), then press Refresh. Admins can list hosts in c.DockerHosts.hosts.'
  );
}

/** "● fakegpu — 4 GPUs" */
export function optionLabel(
  host: IDockerHost,
  trans: TranslationBundle
): string {
  const state = hostState(host);
  const mark = state === 'ok' ? '●' : state === 'warn' ? '◐' : '○';
  const gpus =
    state === 'error'
      ? trans.__('unreachable')
      : host.gpu_count
        ? trans._n('%1 GPU', '%1 GPUs', host.gpu_count)
        : trans.__('no GPU');
  return `${mark} ${host.name} — ${gpus}`;
}

function HostStatus(props: {
  host: IDockerHost;
  trans: TranslationBundle;
}): JSX.Element {
  const { host, trans } = props;
  const state = hostState(host);
  const fix = hostFix(host, trans);
  return (
    <div
      className={`jp-GPUKernels-hostStatus jp-mod-${state}`}
      data-host={host.name}
      data-state={state}
      title={host.description || ''}
    >
      <div className="jp-GPUKernels-chips">
        <span
          className={`jp-GPUKernels-chip jp-mod-${state === 'error' ? 'error' : 'ok'}`}
        >
          <span
            className={`jp-GPUKernels-dot jp-mod-${state === 'error' ? 'error' : 'ok'}`}
          />
          {state === 'error' ? trans.__('unreachable') : trans.__('reachable')}
        </span>
        {state !== 'error' && (
          <span className="jp-GPUKernels-chip">
            {trans.__('Docker %1', host.engine_version ?? '?')}
          </span>
        )}
        {state !== 'error' && (
          <span
            className={`jp-GPUKernels-chip jp-mod-${host.gpu_driver ? 'ok' : 'warn'}`}
          >
            {host.gpu_driver
              ? trans.__('GPU driver: yes')
              : trans.__('GPU driver: no')}
          </span>
        )}
      </div>
      <div className="jp-GPUKernels-hostUrl">{host.url}</div>
      {host.error && (
        <div className="jp-GPUKernels-error" role="alert">
          {host.error}
        </div>
      )}
      {!host.error && !host.gpu_driver && host.gpu_status && (
        <div className="jp-GPUKernels-warning" role="status">
          {/NVIDIA Container Toolkit/.test(host.gpu_status)
            ? trans.__(
                'No NVIDIA Container Toolkit on this host: kernels get no GPU here.'
              )
            : host.gpu_status}
        </div>
      )}
      {fix && <div className="jp-GPUKernels-hint">{fix}</div>}
    </div>
  );
}

export function HostBar(props: {
  model: GPUKernelsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const { value: hosts, error } = model.hosts;
  if (error && !hosts) {
    return (
      <div className="jp-GPUKernels-hostBar">
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      </div>
    );
  }
  if (!hosts) {
    return (
      <div className="jp-GPUKernels-hostBar">
        <div className="jp-GPUKernels-message">
          {trans.__('Loading Docker hosts…')}
        </div>
      </div>
    );
  }
  const info = model.hostInfo;
  const anyReachable = hosts.some(h => hostState(h) !== 'error');
  return (
    <div className="jp-GPUKernels-hostBar">
      <label className="jp-GPUKernels-hostPicker">
        <span className="jp-GPUKernels-hostLabel">{trans.__('Host')}</span>
        <HTMLSelect
          className="jp-GPUKernels-hostSelect"
          aria-label={trans.__('Docker host')}
          value={model.host}
          onChange={event => void model.selectHost(event.target.value)}
          options={hosts.map(h => ({
            label: optionLabel(h, trans),
            value: h.name
          }))}
        />
      </label>
      {!anyReachable && (
        <div className="jp-GPUKernels-noHost" role="alert">
          <strong>{trans.__('No Docker host is reachable.')}</strong>{' '}
          {noHostHelp(trans)}
        </div>
      )}
      {info && <HostStatus host={info} trans={trans} />}
    </div>
  );
}
