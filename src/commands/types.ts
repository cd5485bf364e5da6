/** Each subcommand lives in its own file and reports its exit code through `done`. */
export type Done = (code: number) => void;
