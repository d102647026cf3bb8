import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { describeEventBusContract } from './bus-contract.ts';

describeEventBusContract('in-process', () => {
  let bus: EventBus | undefined;
  return {
    async open() {
      bus = createInProcessBus();
      return bus;
    },
    // One process holds the state: a "restarted" consumer talks to the same bus.
    async reopen() {
      if (!bus) throw new Error('open() first');
      return bus;
    },
  };
});
