using TokenMetrics.Cli;

_ = SqliteProcessMode.UseMultiThread();
return await CliApp.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false);
