Attribute VB_Name = "PayorxlButtons"
' payorxl's buttons on the Dashboard.
'
' Each button runs one Python function of payorxl.excel.macros through xlwings'
' RunPython (the xlwings module of this workbook); the work itself - reading the
' tables, the calculation, writing the owned sheets - is done there, never here.
' This file is the source: payorxl embeds it in the workbooks it builds.
Option Explicit

Sub Auto_Open()
    ' Deadlines count from the Dashboard's Today (the name px_Today) when Settings'
    ' As-of Date is blank. payorxl writes it when it recalculates; opening the workbook
    ' on a later day moves it to that day. That is the only change opening makes: the
    ' formulas hold no TODAY(), which Excel recalculates on every opening, so a workbook
    ' opened and closed unchanged is not asked to be saved.
    On Error Resume Next
    With ThisWorkbook.Names("px_Today").RefersToRange
        If .Value <> Date Then .Value = Date
    End With
End Sub

Sub PayorxlRecalculate()
    RunPython "import payorxl.excel.macros as m; m.recalculate()"
End Sub

Sub PayorxlCheckData()
    RunPython "import payorxl.excel.macros as m; m.check_data()"
End Sub

Sub PayorxlImportRemittance()
    Dim listFile As String
    listFile = PickFiles("Choose 835 remittance files", _
                         "Remittance files (*.835;*.edi;*.txt;*.x12),*.835;*.edi;*.txt;*.x12,All files (*.*),*.*")
    If listFile = "" Then Exit Sub
    RunPython "import payorxl.excel.macros as m; m.import_remittance('@" & HexUtf16(listFile) & "')"
    RemoveList listFile
End Sub

Sub PayorxlImportClaims()
    Dim listFile As String
    listFile = PickFiles("Choose 837P claim files", _
                         "Claim files (*.837;*.edi;*.txt;*.x12),*.837;*.edi;*.txt;*.x12,All files (*.*),*.*")
    If listFile = "" Then Exit Sub
    RunPython "import payorxl.excel.macros as m; m.import_claims('@" & HexUtf16(listFile) & "')"
    RemoveList listFile
End Sub

Private Function PickFiles(dialogTitle As String, fileFilter As String) As String
    ' The files the user picks, written to a new list file, one a line, each as hex of
    ' its UTF-16 code units (plain ASCII, which no code page changes); returns the list
    ' file's path, which the command sends as hex too: however many files, the command
    ' stays short and holds no "|" (xlwings on Mac splits on it), quote or backslash.
    ' Python reads the list and deletes it. "" when the user cancels.
    Dim chosen As Variant, i As Long, listFile As String, f As Integer
    #If Mac Then
        chosen = Application.GetOpenFilename(, , dialogTitle, , True)  ' Mac ignores Windows filters
    #Else
        chosen = Application.GetOpenFilename(fileFilter, 1, dialogTitle, , True)
    #End If
    If Not IsArray(chosen) Then Exit Function
    On Error GoTo failed
    listFile = NewListFile()
    f = FreeFile
    Open listFile For Output As #f
    For i = LBound(chosen) To UBound(chosen)
        Print #f, HexUtf16(CStr(chosen(i)))
    Next i
    Close #f
    PickFiles = listFile
    Exit Function
failed:
    MsgBox "payorxl could not write the list of files to " & listFile & ": " & Err.Description, vbExclamation
    PickFiles = ""
End Function

Private Function NewListFile() As String
    ' A new file, where Excel writes without asking: the temporary folder on Windows;
    ' on Mac HOME, the sandbox's own folder (~/Library/Containers/com.microsoft.Excel/Data),
    ' where xlwings writes its log for the same reason.
    Dim folder As String, sep As String, candidate As String
    #If Mac Then
        folder = Environ("HOME")
        sep = "/"
    #Else
        folder = Environ("TEMP")
        sep = "\"
    #End If
    If Right$(folder, 1) = sep Then folder = Left$(folder, Len(folder) - 1)
    Randomize
    Do
        candidate = folder & sep & "payorxl-paths-" & Format$(Now, "yyyymmdd-hhnnss") & "-" & _
               CStr(Int(Rnd * 1000000)) & ".txt"
    Loop While Dir(candidate) <> ""
    NewListFile = candidate
End Function

Private Sub RemoveList(listFile As String)
    ' Python deletes the list when it reads it. On Windows RunPython returns when Python
    ' has finished, so a list still there (Python never started) goes now; on Mac it
    ' returns at once, while Python runs, and the list is Python's alone to delete.
    #If Not Mac Then
        On Error Resume Next
        If Dir(listFile) <> "" Then Kill listFile
    #End If
End Sub

Private Function HexUtf16(path As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(path)
        out = out & Right$("000" & Hex$(AscW(Mid$(path, i, 1)) And &HFFFF&), 4)
    Next i
    HexUtf16 = out
End Function
