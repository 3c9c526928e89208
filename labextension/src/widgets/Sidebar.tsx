/**
 * The "GPU Kernels" left-sidebar panel: a JupyterLab `SidePanel` with the host
 * picker on top and collapsible sections for GPUs, environments, images and
 * running kernels, each re-rendered by the model signal of its data. It polls
 * the model while visible. Made by the plugin (index.ts); runs commands
 * (docmanager:open and this extension's own) and opens the environment dialog.
 */
import { showDialog, Dialog } from '@jupyterlab/apputils';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  refreshIcon,
  SidePanel,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import { AccordionPanel, PanelLayout, Widget } from '@lumino/widgets';
import * as React from 'react';

import { errorMessage, IEnvironment } from '../api';
import { CommandIDs } from '../commands';
import { EnvironmentsView } from '../components/EnvironmentList';
import { GPUsView } from '../components/GPUCards';
import { HostBar } from '../components/HostBar';
import { ImagesView } from '../components/Images';
import { KernelsView } from '../components/Kernels';
import { OrphansView } from '../components/Orphans';
import { IEnvironmentDraft } from '../formState';
import { GPUKernelsModel } from '../model';
import { basename } from '../format';
import { withShare } from '../sectionSizes';
import { OPEN_KERNEL_TERMINAL } from '../terminalCommands';
import { loadTrans } from '../translation';
import { openEnvironmentDialog } from './EnvironmentDialog';
import { notifyError } from '../notify';
import { ModelSection } from './ModelSection';

/**
 * The left-sidebar panel.
 */
export class GPUKernelsSidebar extends SidePanel {
  constructor(options: GPUKernelsSidebar.IOptions) {
    super();
    this.model = options.model;
    this._commands = options.commands;
    this._bundle = loadTrans(options.translator);
    const trans = this._bundle;
    this.addClass('jp-GPUKernels-sidebar');
    this.title.caption = trans.__('GPU Kernels');

    this._addHeader();

    // host picker and status, always visible above the sections
    const model = this.model;
    const hostBar = new ModelSection({
      signals: [model.hostsChanged, model.hostChanged],
      render: () => <HostBar model={model} trans={trans} />,
      className: 'jp-GPUKernels-hostBarWidget'
    });
    (this.layout as PanelLayout).insertWidget(2, hostBar);

    this._gpus = new ModelSection({
      signals: [model.gpusChanged, model.hostChanged, model.kernelsChanged],
      render: () => this._renderGPUs(),
      label: trans.__('GPUs'),
      className: 'jp-GPUKernels-gpusSection'
    });
    this._envs = new ModelSection({
      signals: [model.environmentsChanged],
      render: () => this._renderEnvironments(),
      label: trans.__('Environments'),
      className: 'jp-GPUKernels-envsSection'
    });
    this._images = new ModelSection({
      signals: [model.imagesChanged, model.pullsChanged, model.hostChanged],
      render: () => this._renderImages(),
      label: trans.__('Images'),
      className: 'jp-GPUKernels-imagesSection'
    });
    this._kernels = new ModelSection({
      signals: [model.kernelsChanged, model.startingChanged],
      render: () => (
        <KernelsView
          model={model}
          onOpen={p => this._open(p)}
          onShowLog={k =>
            void this._commands.execute(CommandIDs.showLog, {
              kernelId: k.kernel_id
            })
          }
          onCommit={k =>
            void this._commands.execute(CommandIDs.commitKernel, {
              kernelId: k.kernel_id
            })
          }
          onTerminal={k =>
            void this._commands.execute(OPEN_KERNEL_TERMINAL, {
              kernelId: k.kernel_id,
              label: basename(k.notebook) || k.environment || ''
            })
          }
          trans={trans}
        />
      ),
      label: trans.__('Running kernels'),
      className: 'jp-GPUKernels-kernelsSection'
    });
    const orphans = new ModelSection({
      signals: [model.orphansChanged],
      render: () => <OrphansView model={model} trans={trans} />,
      label: trans.__('Orphaned containers'),
      className: 'jp-GPUKernels-orphansSection'
    });
    for (const section of [
      this._gpus,
      this._envs,
      this._images,
      this._kernels,
      orphans
    ]) {
      this.addWidget(section);
    }
    // shown only when there are orphaned kernel containers; when they appear
    // the section gets a fifth of the height (the split gave a hidden section
    // none, which left its rows under the status bar)
    let orphansHidden = true;
    const showOrphans = () => {
      const hidden = !model.status.orphans.value?.length;
      orphans.setHidden(hidden);
      const index = this.accordion.widgets.indexOf(orphans);
      const title = this.accordion.titles[index];
      if (title) {
        title.style.display = hidden ? 'none' : '';
      }
      if (orphansHidden && !hidden) {
        this.accordion.setRelativeSizes(
          withShare(this.accordion.relativeSizes(), index, 0.2)
        );
      }
      orphansHidden = hidden;
    };
    model.orphansChanged.connect(showOrphans);
    showOrphans();
    this.accordion.setRelativeSizes([4, 3, 2, 2, 1]);
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
    const env = await openEnvironmentDialog({
      model: this.model,
      draft,
      editing,
      trans: this._bundle
    });
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

  /** The panel's name, as other JupyterLab side panels show it, and the toolbar. */
  private _addHeader(): void {
    const trans = this._bundle;
    const heading = new Widget({ node: document.createElement('h2') });
    heading.node.textContent = trans.__('GPU Kernels');
    heading.addClass('jp-GPUKernels-title');
    this.header.addWidget(heading);

    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__(
          'Refresh hosts, GPUs, images, environments and kernels'
        ),
        onClick: () => void this.refresh()
      })
    );
    this.toolbar.addItem(
      'new-environment',
      new ToolbarButton({
        icon: addIcon,
        tooltip: trans.__('New environment'),
        onClick: () => void this.openEnvironmentForm({})
      })
    );
  }

  private _renderEnvironments(): JSX.Element {
    return (
      <EnvironmentsView
        environments={this.model.environments}
        onOpenForm={(draft, editing) =>
          void this.openEnvironmentForm(draft, editing)
        }
        onNewNotebook={env => void this._run(CommandIDs.newNotebook, env)}
        onUse={env => void this._run(CommandIDs.useEnvironment, env)}
        onDelete={env => void this._delete(env)}
        onExport={env => void this._run(CommandIDs.exportEnvironment, env)}
        trans={this._bundle}
      />
    );
  }

  /** Keyed by host, so the filter starts empty on another host. */
  private _renderImages(): JSX.Element {
    const model = this.model;
    return (
      <ImagesView
        key={model.host}
        model={model}
        onUseImage={image =>
          void this.openEnvironmentForm({ image, host: model.host })
        }
        onBuild={() =>
          void this._commands.execute(CommandIDs.buildImage, {
            host: model.host
          })
        }
        trans={this._bundle}
      />
    );
  }

  /** The GPUs section: the selected host's cards, free ones selectable. */
  private _renderGPUs(): JSX.Element {
    const model = this.model;
    return (
      <GPUsView
        host={model.host}
        gpus={model.gpus()}
        kernels={model.kernels.value}
        selected={this._selected}
        onSelect={indices => {
          this._selected = indices;
          this._gpus.update();
        }}
        onOpen={path => this._open(path)}
        onNewEnvironment={indices =>
          void this.openEnvironmentForm({
            host: model.host,
            gpus: `device=${indices.join(',')}`
          })
        }
        trans={this._bundle}
      />
    );
  }

  private _open(path: string): void {
    void this._commands.execute('docmanager:open', { path });
  }

  private async _run(command: string, env: IEnvironment): Promise<void> {
    try {
      await this._commands.execute(command, { environment: env.name });
    } catch (reason) {
      notifyError(
        this._bundle.__('GPU Kernels'),
        errorMessage(reason, this._bundle),
        this._bundle
      );
    }
  }

  private async _delete(env: IEnvironment): Promise<void> {
    const trans = this._bundle;
    const result = await showDialog({
      title: trans.__('Delete environment'),
      body: trans.__(
        'Delete the environment “%1”? Notebooks using the kernel %2 will need another kernel. Running kernels keep running.',
        env.name,
        env.kernel_name
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete') })
      ]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await this.model.deleteEnvironment(env.name);
    } catch (reason) {
      notifyError(
        trans.__('Delete environment'),
        trans.__('Cannot delete %1: %2', env.name, errorMessage(reason, trans)),
        trans
      );
    }
  }

  private _commands: CommandRegistry;
  private _bundle: TranslationBundle;
  private _poll: Poll;
  private _resizeObserver: ResizeObserver;
  private _interval = 5;
  private _gpus: ModelSection;
  private _envs: ModelSection;
  private _images: ModelSection;
  private _kernels: ModelSection;
  private _selected: string[] = [];
}

export namespace GPUKernelsSidebar {
  export interface IOptions {
    model: GPUKernelsModel;
    /** The app's commands (docmanager:open and this extension's own). */
    commands: CommandRegistry;
    /** Seconds between refreshes; 0 disables polling. Default 5. */
    refreshInterval?: number;
    translator?: ITranslator;
  }
}
