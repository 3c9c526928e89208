/**
 * The Environments section: one item per environment (new notebook, use for
 * the current notebook, edit, delete) and "New environment". A pure view of
 * `model.environments`; the actions are the sidebar's (widgets/Sidebar.tsx).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  deleteIcon,
  editIcon,
  lockIcon,
  notebookIcon,
  ToolbarButtonComponent
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { IEnvironment } from '../api';
import { describeGpuRequest, shortImage } from '../format';
import { IEnvironmentDraft } from '../formState';
import { ILoaded } from '../loaded';

/** "fakegpu · torch:2 · 1 GPU · 8g RAM · 4 CPU · shm 1g" */
export function environmentFacts(
  env: IEnvironment,
  trans: TranslationBundle
): string {
  return [
    env.host,
    shortImage(env.image),
    describeGpuRequest(env.gpus, trans),
    env.memory && trans.__('%1 RAM', env.memory),
    env.cpus ? trans.__('%1 CPU', env.cpus) : '',
    env.shm_size && trans.__('shm %1', env.shm_size)
  ]
    .filter(Boolean)
    .join(' · ');
}

function EnvironmentItem(props: {
  env: IEnvironment;
  onNewNotebook: () => void;
  onUse: () => void;
  onEdit: () => void;
  onDelete: () => void;
  onExport?: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { env, trans } = props;
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
              title={trans.__('Defined by the administrator (read-only)')}
            />
          )}
        </span>
        {!env.read_only && (
          <span className="jp-GPUKernels-envTools">
            <ToolbarButtonComponent
              icon={editIcon}
              tooltip={trans.__('Edit %1', env.name)}
              onClick={props.onEdit}
            />
            <ToolbarButtonComponent
              icon={deleteIcon}
              tooltip={trans.__('Delete %1', env.name)}
              onClick={props.onDelete}
            />
          </span>
        )}
      </div>
      <div className="jp-GPUKernels-dim jp-GPUKernels-envFacts">
        {environmentFacts(env, trans)}
      </div>
      <div className="jp-GPUKernels-envActions">
        <button
          className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-newNotebook"
          title={trans.__(
            'Create a notebook in the current folder with the %1 kernel',
            env.kernel_name
          )}
          onClick={props.onNewNotebook}
        >
          <notebookIcon.react tag="span" className="jp-GPUKernels-inlineIcon" />
          {trans.__('New notebook')}
        </button>
        <button
          className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-useEnv"
          title={trans.__(
            'Switch the current notebook to the %1 kernel',
            env.kernel_name
          )}
          onClick={props.onUse}
        >
          {trans.__('Use for current notebook')}
        </button>
        {props.onExport && (
          <button
            className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-exportEnv"
            title={trans.__(
              'Share %1: a docker run line, compose service, Dockerfile or JSON',
              env.name
            )}
            onClick={props.onExport}
          >
            {trans.__('Export…')}
          </button>
        )}
      </div>
    </li>
  );
}

/** The Environments section body. */
export function EnvironmentsView(props: {
  environments: ILoaded<IEnvironment[]>;
  onOpenForm: (draft: IEnvironmentDraft, editing?: string) => void;
  onNewNotebook: (env: IEnvironment) => void;
  onUse: (env: IEnvironment) => void;
  onDelete: (env: IEnvironment) => void;
  onExport?: (env: IEnvironment) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const { value: envs, error, loading } = props.environments;
  return (
    <div className="jp-GPUKernels-envsView">
      {error && (
        <div className="jp-GPUKernels-error" role="alert">
          {error}
        </div>
      )}
      {!envs && !error && (
        <div className="jp-GPUKernels-message">
          {loading ? trans.__('Loading environments…') : ''}
        </div>
      )}
      {envs && envs.length === 0 && (
        <div className="jp-GPUKernels-message">
          {trans.__(
            'No environment yet. An environment is an image, a host and GPUs; each one is a kernel you can pick in the launcher.'
          )}
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
            onExport={props.onExport && (() => props.onExport?.(env))}
            trans={trans}
          />
        ))}
      </ul>
      <button
        className="jp-mod-styled jp-GPUKernels-smallButton jp-GPUKernels-addEnv"
        onClick={() => props.onOpenForm({})}
      >
        <addIcon.react tag="span" className="jp-GPUKernels-inlineIcon" />
        {trans.__('New environment')}
      </button>
    </div>
  );
}
