Attribute VB_Name = "PayorxlButtons"
' payorxl's buttons on the Dashboard.
'
' Each button runs one Python function of payorxl.excel.macros through xlwings'
' RunPython (the xlwings module of this workbook); the work itself - reading the
' tables, the calculation, writing the owned sheets - is done there, never here.
' This file is the source: payorxl embeds it in the workbooks it builds.
Option Explicit

Sub PayorxlRecalculate()
    RunPython "import payorxl.excel.macros as m; m.recalculate()"
End Sub

Sub PayorxlCheckData()
    RunPython "import payorxl.excel.macros as m; m.check_data()"
End Sub

Sub PayorxlImportRemittance()
    Dim files As String
    files = PickFiles("Choose 835 remittance files", _
                      "Remittance files (*.835;*.edi;*.txt;*.x12),*.835;*.edi;*.txt;*.x12,All files (*.*),*.*")
    If files = "" Then Exit Sub
    RunPython "import payorxl.excel.macros as m; m.import_remittance('" & files & "')"
End Sub

Sub PayorxlImportClaims()
    Dim files As String
    files = PickFiles("Choose 837P claim files", _
                      "Claim files (*.837;*.edi;*.txt;*.x12),*.837;*.edi;*.txt;*.x12,All files (*.*),*.*")
    If files = "" Then Exit Sub
    RunPython "import payorxl.excel.macros as m; m.import_claims('" & files & "')"
End Sub

Private Function PickFiles(dialogTitle As String, fileFilter As String) As String
    ' The files the user picks, each as hex of its UTF-16 code units, joined by "|":
    ' nothing in a path (a quote, a backslash) can break the Python command.
    ' "" when the user cancels.
    Dim chosen As Variant, i As Long, out As String
    #If Mac Then
        chosen = Application.GetOpenFilename(, , dialogTitle, , True)  ' Mac ignores Windows filters
    #Else
        chosen = Application.GetOpenFilename(fileFilter, 1, dialogTitle, , True)
    #End If
    If Not IsArray(chosen) Then Exit Function
    For i = LBound(chosen) To UBound(chosen)
        If out <> "" Then out = out & "|"
        out = out & HexUtf16(CStr(chosen(i)))
    Next i
    PickFiles = out
End Function

Private Function HexUtf16(path As String) As String
    Dim i As Long, out As String
    For i = 1 To Len(path)
        out = out & Right$("000" & Hex$(AscW(Mid$(path, i, 1)) And &HFFFF&), 4)
    Next i
    HexUtf16 = out
End Function
