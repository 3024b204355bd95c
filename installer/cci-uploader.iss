; Inno Setup script: CCI-OMERO-Uploader-Setup-<version>.exe, a per-machine installer
; of the PyInstaller bundle in dist\cci-uploader (build it first with
; installer\cci-uploader.spec). Needs Inno Setup 6.3 or later.
;
; The version is the one in pyproject.toml ([project] version), passed in by the
; build, either as an environment variable:
;   set CCI_APP_VERSION=0.1.0 && iscc installer\cci-uploader.iss
; or as a preprocessor define: iscc /DAppVersion=0.1.0 installer\cci-uploader.iss
; .github/workflows/windows-installer.yml and tools/wine_installer_check.py do this.
; Two more defines exist for tools/wine_installer_check.py (compiling under wine
; on Linux): /DBundleDir=<folder> (default ..\dist\cci-uploader) and
; /DCompression=none (default lzma2), which changes the size of Setup.exe only.
;
; What it does:
;   - installs into C:\Program Files\CCI OMERO Uploader, for all users (admin),
;     after deleting the previous version's _internal folder, so an upgrade leaves
;     no library of the old version behind;
;   - Start-menu entries for the uploader and for the training sandbox, and an
;     optional desktop shortcut (a task on the "Additional tasks" page);
;   - makes %ProgramData%\cci-uploader, where the app reads the facility config,
;     and sets its permissions explicitly (icacls, by well-known SIDs so that it
;     works on Windows in any language): SYSTEM and Administrators full control,
;     Users read only. Nothing inherited from %ProgramData% stays, since that would
;     let any user create or change files there. Setup stops, installing nothing,
;     when icacls fails;
;   - puts the facility config (config.toml) and the clean-up task definition
;     (cleanup-task.xml) there only if there are none yet: both are the facility's
;     to edit, survive upgrades, and stay when the program is uninstalled;
;   - uninstalls the program files only. Each user's history, settings and logs
;     live in their own %LOCALAPPDATA%\cci-uploader and are never touched.

#if VER < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or later is needed (x64compatible in ArchitecturesAllowed). Install it (choco install innosetup --version 6.4.1) and compile again.
#endif

#ifndef AppVersion
  #define AppVersion GetEnv("CCI_APP_VERSION")
#endif
#if AppVersion == ""
  #error Pass the version: set CCI_APP_VERSION (or /DAppVersion=...) to the package version.
#endif
#ifndef BundleDir
  #define BundleDir "..\dist\cci-uploader"
#endif
#ifndef Compression
  #define Compression "lzma2"
#endif

#define AppName "CCI OMERO Uploader"
#define AppExe "cci-uploader.exe"
#define ConfigDir "{commonappdata}\cci-uploader"

[Setup]
; The AppId identifies the product across versions: never change it.
AppId={{58710667-50D1-445F-AC76-5F1BA2F320FC}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Centre for Cellular Imaging
VersionInfoVersion={#AppVersion}
VersionInfoProductVersion={#AppVersion}
VersionInfoCompany=Centre for Cellular Imaging
VersionInfoDescription={#AppName} Setup
VersionInfoProductName={#AppName}
SetupIconFile=cci-uploader.ico
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Windows 10 1809 / Server 2019: the oldest that Python 3.12 and Qt 6 support.
MinVersion=10.0.17763
OutputDir=..\dist\installer
OutputBaseFilename=CCI-OMERO-Uploader-Setup-{#AppVersion}
Compression={#Compression}
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; The bundle's libraries change with every version: none of the old ones may stay.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; The facility config: installed once, then the facility's to edit; never removed.
Source: "config.example.toml"; DestDir: "{#ConfigDir}"; DestName: "config.toml"; Flags: onlyifdoesntexist uninsneveruninstall
; The clean-up task definition, edited for the PC and imported with schtasks: kept
; beside the config (outside Program Files, where only the installer writes).
Source: "cleanup-task.xml"; DestDir: "{#ConfigDir}"; Flags: onlyifdoesntexist uninsneveruninstall
; The documented examples, refreshed on every upgrade, to compare the edited files with.
Source: "config.example.toml"; DestDir: "{app}"; Flags: ignoreversion
Source: "cleanup-task.xml"; DestDir: "{app}"; DestName: "cleanup-task.example.xml"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"; WorkingDir: "{app}"
Name: "{group}\{#AppName} (training sandbox)"; Filename: "{app}\{#AppExe}"; Parameters: "gui --sandbox"; WorkingDir: "{app}"; Comment: "Practise uploading: nothing leaves this computer."
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Parameters: "gui"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
; As the user who started Setup (not the elevated admin), so their own folders are used.
Filename: "{app}\{#AppExe}"; Parameters: "gui"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent runasoriginaluser

[Code]
const
  // Well-known SIDs, the same on every Windows language: SYSTEM, Administrators, Users.
  AclGrants = '*S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX';

// Create the config folder and set its permissions before any file is installed;
// a non-empty result stops Setup with that message (exit code 7 when silent).
function PrepareToInstall(var NeedsRestart: Boolean): String;
var
  Dir, Params: String;
  ResultCode: Integer;
begin
  Result := '';
  Dir := ExpandConstant('{#ConfigDir}');
  if not ForceDirectories(Dir) then begin
    Result := 'Setup could not create the folder ' + Dir + '. Nothing was installed.';
    exit;
  end;
  // /inheritance:r drops what %ProgramData% passes down (Users may write there);
  // /grant:r replaces any earlier grant to the same SID.
  Params := '"' + Dir + '" /inheritance:r /grant:r ' + AclGrants;
  Log('Config folder permissions: icacls ' + Params);
  if not Exec(ExpandConstant('{sys}\icacls.exe'), Params, '', SW_HIDE, ewWaitUntilTerminated, ResultCode) then
    ResultCode := -1;
  Log('icacls exit code: ' + IntToStr(ResultCode));
  if ResultCode <> 0 then
    Result := 'Setup could not set the permissions of ' + Dir + ' (icacls exit code ' + IntToStr(ResultCode) + '), so other users could change the facility config. Nothing was installed. Run Setup as an administrator, or ask IT.';
end;
