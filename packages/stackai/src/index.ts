export {
  type BreakerState,
  createStackAiClient,
  reasonOf,
  type StackAiClient,
  StackAiError,
  type StackAiOptions,
} from "./client.ts";
