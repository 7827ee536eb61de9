namespace ModelLibrary.PowerShell;
