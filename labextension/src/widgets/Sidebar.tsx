/**
 * The "GPU Kernels" left-sidebar panel: a JupyterLab `SidePanel` with the host
 * picker on top and collapsible sections for GPUs, environments, images and
 * running kernels. It refreshes itself while visible.
 */
import { showDialog, Dialog, Notification } from '@jupyterlab/apputils';
import {
  addIcon,
  ReactWidget,
  refreshIcon,
  SidePanel,
  ToolbarButton,
  UseSignal
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import { AccordionPanel, PanelLayout, Widget } from '@lumino/widgets';
import * as React from 'react';

import { errorMessage, IEnvironment } from './api';
import { CommandIDs } from './commands';
import {
  EnvironmentsView,
  IEnvironmentDraft,
  openEnvironmentDialog
} from './environments';
import { GPUsView } from './gpus';
import { HostBar } from './hostbar';
import { ImagesView } from './images';
import { KernelsView } from './kernels';
import { GPUKernelsModel } from './model';

export { NO_HOST_HELP } from './hostbar';

/**
 * A ReactWidget that re-renders whenever the model changes.
 */
class ModelView extends ReactWidget {
  constructor(
    readonly model: GPUKernelsModel,
    private _render: () => JSX.Element,
    options: { label?: string; className: string }
  ) {
    super();
    this.addClass(options.className);
    this.addClass('jp-GPUKernels-section');
    if (options.label) {
      this.title.label = options.label;
    }
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>{() => this._render()}</UseSignal>
    );
  }
}

/**
 * The left-sidebar panel.
 */
export class GPUKernelsSidebar extends SidePanel {
  constructor(options: GPUKernelsSidebar.IOptions) {
    super();
    this.model = options.model;
    this._commands = options.commands;
    this.addClass('jp-GPUKernels-sidebar');
    this.title.caption = 'GPU Kernels';

    // header: the panel's name, as other JupyterLab side panels show it
    const heading = new Widget({ node: document.createElement('h2') });
    heading.node.textContent = 'GPU Kernels';
    heading.addClass('jp-GPUKernels-title');
    this.header.addWidget(heading);

    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: 'Refresh hosts, GPUs, images, environments and kernels',
        onClick: () => void this.refresh()
      })
    );
    this.toolbar.addItem(
      'new-environment',
      new ToolbarButton({
        icon: addIcon,
        tooltip: 'New environment',
        onClick: () => void this.openEnvironmentForm({})
      })
    );

    // host picker and status, always visible above the sections
    const hostBar = new ModelView(
      this.model,
      () => <HostBar model={this.model} />,
      {
        className: 'jp-GPUKernels-hostBarWidget'
      }
    );
    (this.layout as PanelLayout).insertWidget(2, hostBar);

    this._gpus = new ModelView(
      this.model,
      () => (
        <GPUsView
          host={this.model.host}
          gpus={this.model.gpus()}
          kernels={this.model.kernels.value}
          selected={this._selected}
          onSelect={indices => {
            this._selected = indices;
            this._gpus.update();
          }}
          onOpen={path => this._open(path)}
          onNewEnvironment={indices =>
            void this.openEnvironmentForm({
              host: this.model.host,
              gpus: `device=${indices.join(',')}`
            })
          }
        />
      ),
      { label: 'GPUs', className: 'jp-GPUKernels-gpusSection' }
    );
    this._envs = new ModelView(
      this.model,
      () => (
        <EnvironmentsView
          model={this.model}
          onOpenForm={(draft, editing) =>
            void this.openEnvironmentForm(draft, editing)
          }
          onNewNotebook={env => void this._run(CommandIDs.newNotebook, env)}
          onUse={env => void this._run(CommandIDs.useEnvironment, env)}
          onDelete={env => void this._delete(env)}
        />
      ),
      { label: 'Environments', className: 'jp-GPUKernels-envsSection' }
    );
    this._images = new ModelView(
      this.model,
      () => (
        <ImagesView
          key={this.model.host}
          model={this.model}
          onUseImage={image =>
            void this.openEnvironmentForm({ image, host: this.model.host })
          }
        />
      ),
      { label: 'Images', className: 'jp-GPUKernels-imagesSection' }
    );
    this._kernels = new ModelView(
      this.model,
      () => (
        <KernelsView model={this.model} onOpen={path => this._open(path)} />
      ),
      { label: 'Running kernels', className: 'jp-GPUKernels-kernelsSection' }
    );
    for (const section of [
      this._gpus,
      this._envs,
      this._images,
      this._kernels
    ]) {
      this.addWidget(section);
    }
    this.accordion.setRelativeSizes([4, 3, 2, 2]);
    // The host bar above grows and shrinks with its content; the accordion's
    // (absolutely positioned) sections must follow its new height.
    this._resizeObserver = new ResizeObserver(() => {
      if (this.accordion.isVisible) {
        this.accordion.update();
      }
    });
    this._resizeObserver.observe(this.accordion.node);

    this._poll = new Poll({
      auto: false,
      factory: () => this.model.poll(),
      frequency: { interval: 5000, backoff: true, max: 60 * 1000 },
      name: 'jupyter-gpu-kernels:sidebar',
      standby: () => (this.isVisible ? 'when-hidden' : true)
    });
    this.refreshInterval = options.refreshInterval ?? 5;
  }

  readonly model: GPUKernelsModel;

  get accordion(): AccordionPanel {
    return this.content as AccordionPanel;
  }

  /**
   * Seconds between refreshes while the panel is visible; 0 disables polling.
   */
  get refreshInterval(): number {
    return this._interval;
  }
  set refreshInterval(seconds: number) {
    this._interval = Math.max(0, Number(seconds) || 0);
    this._poll.frequency = {
      interval: this._interval > 0 ? this._interval * 1000 : Poll.NEVER,
      backoff: true,
      max: Math.max(60, this._interval) * 1000
    };
  }

  /** Reload everything now. */
  async refresh(): Promise<void> {
    await this.model.refreshAll();
  }

  /**
   * Open the create (or edit) environment dialog; resolves with the saved
   * environment, or null when cancelled.
   */
  async openEnvironmentForm(
    draft: IEnvironmentDraft,
    editing?: string
  ): Promise<IEnvironment | null> {
    if (!this.model.hosts.value) {
      void this.model.refreshHosts();
    }
    const env = await openEnvironmentDialog(this.model, draft, editing);
    if (env && !editing) {
      this._selected = [];
      this._gpus.update();
    }
    return env;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    this._resizeObserver.disconnect();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
    void this._poll.start();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      void this.refresh();
      void this._poll.start();
    }
  }

  protected onBeforeHide(msg: Message): void {
    super.onBeforeHide(msg);
    void this._poll.stop();
  }

  private _open(path: string): void {
    void this._commands.execute('docmanager:open', { path });
  }

  private async _run(command: string, env: IEnvironment): Promise<void> {
    try {
      await this._commands.execute(command, { environment: env.name });
    } catch (reason) {
      Notification.error(errorMessage(reason), { autoClose: 8000 });
    }
  }

  private async _delete(env: IEnvironment): Promise<void> {
    const result = await showDialog({
      title: 'Delete environment',
      body: `Delete the environment “${env.name}”? Notebooks using the kernel ${env.kernel_name} will need another kernel. Running kernels keep running.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await this.model.deleteEnvironment(env.name);
    } catch (reason) {
      Notification.error(`Cannot delete ${env.name}: ${errorMessage(reason)}`, {
        autoClose: 8000
      });
    }
  }

  private _commands: CommandRegistry;
  private _poll: Poll;
  private _resizeObserver: ResizeObserver;
  private _interval = 5;
  private _gpus: ModelView;
  private _envs: ModelView;
  private _images: ModelView;
  private _kernels: ModelView;
  private _selected: string[] = [];
}

export namespace GPUKernelsSidebar {
  export interface IOptions {
    model: GPUKernelsModel;
    /** The app's commands (docmanager:open and this extension's own). */
    commands: CommandRegistry;
    /** Seconds between refreshes; 0 disables polling. Default 5. */
    refreshInterval?: number;
  }
}
