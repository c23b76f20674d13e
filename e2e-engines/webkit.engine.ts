/** The shared scenarios (scenarios.ts) in webkit. */
import { defineEngineSuite } from './suite';

defineEngineSuite('webkit');
