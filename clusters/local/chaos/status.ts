// The chaos object's status as Chaos Mesh's controller writes it (pure): conditions Selected, AllInjected,
// AllRecovered, Paused; experiment.desiredPhase; one containerRecord per injected pod or container.

export interface RecordEvent {
  type: 'Succeeded' | 'Failed';
  operation: 'Apply' | 'Recover';
  timestamp: string;
  message?: string;
}

export interface ContainerRecord {
  id: string;
  selectorKey: string;
  phase: 'Injected' | 'NotInjected';
  injectedCount: number;
  recoveredCount: number;
  events: RecordEvent[];
}

export interface ExperimentView {
  records: ContainerRecord[];
  desiredPhase: 'Run' | 'Stop';
  paused: boolean;
  /** Why nothing (or not everything) was selected. */
  selectProblems: string[];
  startTime: string;
}

const cond = (type: string, ok: boolean, reason?: string) => ({
  type,
  status: ok ? 'True' : 'False',
  ...(reason ? { reason } : {}),
});

export function buildChaosStatus(view: ExperimentView): Record<string, unknown> {
  const { records } = view;
  const selected = records.some((r) => r.selectorKey === '.') && view.selectProblems.length === 0;
  return {
    conditions: [
      cond(
        'Selected',
        selected,
        selected ? undefined : view.selectProblems.join('; ') || 'no pod is selected',
      ),
      cond('AllInjected', records.length > 0 && records.every((r) => r.phase === 'Injected')),
      cond(
        'AllRecovered',
        records.every((r) => r.phase === 'NotInjected'),
      ),
      cond('Paused', view.paused),
    ],
    experiment: {
      desiredPhase: view.desiredPhase,
      containerRecords: records,
    },
  };
}
